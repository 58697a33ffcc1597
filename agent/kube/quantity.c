/* SPDX-License-Identifier: Apache-2.0 */
/* Resource quantities as the API server reads them: <sign><digits>[.<digits>]<suffix>, the
 * suffix binary (Ki..Ei), decimal (n u m "" k M G T P E) or an exponent (e3, E-2). Kept exact
 * until a caller asks for whole or milli units, then rounded up as Kubernetes rounds. */
#include "kube.h"
#include "util.h"

#include <errno.h>

#define QUANTITY_MAX_LEN    64
#define QUANTITY_MAX_DIGITS 18 /* significant digits a mantissa keeps exactly in 64 bits */
#define QUANTITY_MAX_EXP    100

static bool suffix_value(const char *s, int *exp10, int *exp2)
{
    static const struct {
        const char *name;
        int exp10, exp2;
    } table[] = {
        {"", 0, 0},    {"n", -9, 0},  {"u", -6, 0},  {"m", -3, 0},  {"k", 3, 0},   {"M", 6, 0},
        {"G", 9, 0},   {"T", 12, 0},  {"P", 15, 0},  {"E", 18, 0},  {"Ki", 0, 10}, {"Mi", 0, 20},
        {"Gi", 0, 30}, {"Ti", 0, 40}, {"Pi", 0, 50}, {"Ei", 0, 60},
    };
    for (size_t i = 0; i < ARRAY_SIZE(table); i++)
        if (streq(s, table[i].name)) {
            *exp10 = table[i].exp10;
            *exp2 = table[i].exp2;
            return true;
        }
    if ((*s == 'e' || *s == 'E') && s[1]) {
        const char *p = s + 1;
        bool neg = *p == '-';
        if (*p == '-' || *p == '+')
            p++;
        int v = 0;
        if (!*p)
            return false;
        for (; *p; p++) {
            if (*p < '0' || *p > '9' || v > QUANTITY_MAX_EXP)
                return false;
            v = v * 10 + (*p - '0');
        }
        if (v > QUANTITY_MAX_EXP)
            return false;
        *exp10 = neg ? -v : v;
        *exp2 = 0;
        return true;
    }
    return false;
}

int kube_quantity_parse(const char *s, struct kube_quantity *q, pr_error **err)
{
    size_t len = strnlen(s, QUANTITY_MAX_LEN + 1);
    if (len == 0 || len > QUANTITY_MAX_LEN)
        return pr_err(err, 0, "quantity `%.*s`: empty or longer than %d characters",
                      QUANTITY_MAX_LEN, s, QUANTITY_MAX_LEN);
    const char *p = s;
    bool neg = *p == '-';
    if (*p == '-' || *p == '+')
        p++;
    int64_t m = 0;
    int digits = 0, frac = 0, sig = 0;
    bool dot = false;
    for (; (*p >= '0' && *p <= '9') || (*p == '.' && !dot); p++) {
        if (*p == '.') {
            dot = true;
            continue;
        }
        digits++;
        if (m == 0 && *p == '0') {
            frac += dot; /* leading zeros only shift the point */
            continue;
        }
        if (sig == QUANTITY_MAX_DIGITS) {
            /* Beyond what 64 bits hold exactly: a digit past the point rounds up; before it,
             * it scales. */
            if (!dot) {
                frac--;
            } else if (*p != '0') {
                m++;
            }
            continue;
        }
        m = m * 10 + (*p - '0');
        sig++;
        frac += dot;
    }
    int exp10, exp2;
    if (digits == 0 || !suffix_value(p, &exp10, &exp2))
        return pr_err(err, 0,
                      "quantity `%s`: not a number with a suffix (Ki Mi Gi Ti Pi Ei, n u m k M G T "
                      "P E, or an exponent such as e3)",
                      s);
    q->mantissa = neg ? -m : m;
    q->exp10 = exp10 - frac;
    q->exp2 = exp2;
    return 0;
}

int kube_quantity_scaled(const struct kube_quantity *q, int scale, int64_t *out)
{
    __int128 v = q->mantissa < 0 ? -(__int128)q->mantissa : q->mantissa;
    bool neg = q->mantissa < 0;
    const __int128 limit = INT64_MAX;
    for (int i = 0; i < q->exp2; i++)
        if ((v <<= 1) > limit)
            return -ERANGE;
    int e = q->exp10 + scale;
    for (; e > 0; e--)
        if (v != 0 && (v *= 10) > limit)
            return -ERANGE;
    bool remainder = false;
    for (; e < 0 && v != 0; e++) {
        remainder = remainder || v % 10 != 0;
        v /= 10;
    }
    if (remainder)
        v++; /* away from zero, as Kubernetes' RoundUp */
    if (v > limit)
        return -ERANGE;
    *out = neg ? -(int64_t)v : (int64_t)v;
    return 0;
}
