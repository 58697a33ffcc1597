/* SPDX-License-Identifier: Apache-2.0 */
#include "ipam.h"
#include "fs.h"
#include "log.h"
#include "util.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>

/* Give up walking a huge (IPv6) range after this many taken addresses: call it full. */
#define IPAM_MAX_PROBES (1u << 20)

static const char *const ctx = "ipam";

void ipam_conf_free(ipam_conf *c)
{
    free(c->dir);
    for (size_t i = 0; i < c->n_sets; i++)
        free(c->sets[i].ranges);
    free(c->sets);
    free(c->routes);
    free(c->requested);
    cni_dns_free(&c->dns);
    memset(c, 0, sizeof(*c));
}

static int parse_ip_field(yajl_val obj, const char *key, cni_ip *out, pr_error **err)
{
    const char *s = NULL;
    if (json_get_str(obj, key, ctx, &s, err) < 0)
        return cni_err(err, CNI_ERR_INVALID_CONFIG, 0, "invalid ipam.%s", key);
    if (s && !cni_ip_parse(s, out))
        return cni_err(err, CNI_ERR_INVALID_CONFIG, 0, "invalid ipam %s `%s`", key, s);
    return 0;
}

/* Fills the defaults host-local uses: gateway and rangeStart at .1, rangeEnd below the
 * broadcast address (IPv4) or at the last address (IPv6). */
static int range_parse(yajl_val obj, ipam_range *r, pr_error **err)
{
    const char *subnet = NULL;
    char a[CNI_PREFIX_STRLEN];
    memset(r, 0, sizeof(*r));
    if (!YAJL_IS_OBJECT(obj))
        return cni_err(err, CNI_ERR_INVALID_CONFIG, 0, "ipam range is not an object");
    if (json_get_str(obj, "subnet", ctx, &subnet, err) < 0)
        return cni_err(err, CNI_ERR_INVALID_CONFIG, 0, "invalid ipam subnet");
    if (!subnet)
        return cni_err(err, CNI_ERR_INVALID_CONFIG, 0, "ipam range has no subnet");
    if (!cni_prefix_parse(subnet, false, &r->subnet))
        return cni_err(err, CNI_ERR_INVALID_CONFIG, 0, "invalid ipam subnet `%s`", subnet);
    r->subnet = cni_prefix_masked(&r->subnet);
    int bits = cni_ip_len(&r->subnet.ip) * 8;
    if (r->subnet.plen > bits - 2)
        return cni_err(err, CNI_ERR_INVALID_CONFIG, 0, "network %s too small to allocate from",
                       cni_prefix_fmt(&r->subnet, a));
    if (parse_ip_field(obj, "rangeStart", &r->start, err) < 0 ||
        parse_ip_field(obj, "rangeEnd", &r->end, err) < 0 ||
        parse_ip_field(obj, "gateway", &r->gw, err) < 0)
        return -EINVAL;

    cni_ip first = cni_prefix_first(&r->subnet), last = cni_prefix_last(&r->subnet);
    if (!r->gw.family) {
        r->gw = first;
        cni_ip_add(&r->gw, 1);
    }
    if (!r->start.family) {
        r->start = first;
        cni_ip_add(&r->start, 1);
    }
    if (!r->end.family) {
        r->end = last;
        if (r->subnet.ip.family == AF_INET)
            cni_ip_add(&r->end, -1);
    }
    if (!cni_prefix_contains(&r->subnet, &r->start))
        return cni_err(err, CNI_ERR_INVALID_CONFIG, 0, "rangeStart %s not in network %s",
                       cni_ip_fmt(&r->start, a), subnet);
    if (!cni_prefix_contains(&r->subnet, &r->end))
        return cni_err(err, CNI_ERR_INVALID_CONFIG, 0, "rangeEnd %s not in network %s",
                       cni_ip_fmt(&r->end, a), subnet);
    if (cni_ip_cmp(&r->start, &r->end) > 0)
        return cni_err(err, CNI_ERR_INVALID_CONFIG, 0, "rangeStart is after rangeEnd in %s",
                       subnet);
    return 0;
}

static bool ranges_overlap(const ipam_range *a, const ipam_range *b)
{
    return a->start.family == b->start.family && cni_ip_cmp(&a->start, &b->end) <= 0 &&
           cni_ip_cmp(&b->start, &a->end) <= 0;
}

static int parse_ranges(yajl_val ipam, ipam_conf *c, pr_error **err)
{
    yajl_val sets = NULL;
    if (json_get_array(ipam, "ranges", ctx, &sets, err) < 0)
        return cni_err(err, CNI_ERR_INVALID_CONFIG, 0, "invalid ipam.ranges");
    if (sets) {
        c->n_sets = json_array_len(sets);
        c->sets = xcalloc(c->n_sets ? c->n_sets : 1, sizeof(*c->sets));
        for (size_t i = 0; i < c->n_sets; i++) {
            yajl_val set = json_array_at(sets, i);
            if (!YAJL_IS_ARRAY(set) || json_array_len(set) == 0)
                return cni_err(err, CNI_ERR_INVALID_CONFIG, 0,
                               "ipam.ranges[%zu] must be a non-empty array of ranges", i);
            c->sets[i].n = json_array_len(set);
            c->sets[i].ranges = xcalloc(c->sets[i].n, sizeof(ipam_range));
            for (size_t j = 0; j < c->sets[i].n; j++) {
                if (range_parse(json_array_at(set, j), &c->sets[i].ranges[j], err) < 0)
                    return -EINVAL;
                if (c->sets[i].ranges[j].subnet.ip.family != c->sets[i].ranges[0].subnet.ip.family)
                    return cni_err(err, CNI_ERR_INVALID_CONFIG, 0,
                                   "ipam.ranges[%zu] mixes address families", i);
            }
        }
    } else if (json_get(ipam, "subnet")) {
        c->n_sets = 1;
        c->sets = xcalloc(1, sizeof(*c->sets));
        c->sets[0].n = 1;
        c->sets[0].ranges = xcalloc(1, sizeof(ipam_range));
        if (range_parse(ipam, &c->sets[0].ranges[0], err) < 0)
            return -EINVAL;
    }
    if (c->n_sets == 0)
        return cni_err(err, CNI_ERR_INVALID_CONFIG, 0, "no IP ranges specified");
    for (size_t i = 0; i < c->n_sets; i++)
        for (size_t j = 0; j < c->sets[i].n; j++)
            for (size_t k = i; k < c->n_sets; k++)
                for (size_t l = (k == i ? j + 1 : 0); l < c->sets[k].n; l++)
                    if (ranges_overlap(&c->sets[i].ranges[j], &c->sets[k].ranges[l]))
                        return cni_err(err, CNI_ERR_INVALID_CONFIG, 0,
                                       "ipam ranges overlap (ranges[%zu][%zu] and [%zu][%zu])", i,
                                       j, k, l);
    return 0;
}

/* resolv.conf syntax: nameserver, domain, search, options lines. */
static int parse_resolv_conf(const char *path, cni_dns *dns, pr_error **err)
{
    _cleanup_free_ char *text = NULL;
    if (read_file_max(path, CNI_RESOLV_CONF_MAX, READ_REGULAR, &text, NULL, err) < 0) {
        cni_err(err, CNI_ERR_INVALID_CONFIG, 0, "cannot read resolvConf `%s`", path);
        return pr_err_prefix(err, "ipam.resolvConf");
    }
    char *next = text;
    while (next && *next) {
        char *line = next;
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        char *save = NULL, *key = strtok_r(line, " \t\r\n", &save);
        if (!key || *key == '#' || *key == ';')
            continue;
        char ***list = streq(key, "nameserver") ? &dns->nameservers
                       : streq(key, "search")   ? &dns->search
                       : streq(key, "options")  ? &dns->options
                                                : NULL;
        for (char *w = strtok_r(NULL, " \t\r\n", &save); w; w = strtok_r(NULL, " \t\r\n", &save)) {
            if (streq(key, "domain")) {
                free(dns->domain);
                dns->domain = xstrdup(w);
            } else if (list) {
                size_t n = strv_length(*list);
                *list = xrealloc(*list, (n + 2) * sizeof(char *));
                (*list)[n] = xstrdup(w);
                (*list)[n + 1] = NULL;
            }
        }
    }
    return 0;
}

static int add_requested(ipam_conf *c, const char *s, const char *from, pr_error **err)
{
    cni_prefix p;
    if (!cni_prefix_parse(s, true, &p))
        return cni_err(err, CNI_ERR_INVALID_CONFIG, 0, "invalid IP `%s` in %s", s, from);
    c->requested = xrealloc(c->requested, (c->n_requested + 1) * sizeof(cni_ip));
    c->requested[c->n_requested++] = p.ip;
    return 0;
}

static int add_requested_array(ipam_conf *c, yajl_val arr, const char *from, pr_error **err)
{
    _cleanup_strv_ char **v = NULL;
    if (!arr)
        return 0;
    if (json_value_strv(arr, from, &v, err) < 0)
        return cni_err(err, CNI_ERR_INVALID_CONFIG, 0, "invalid %s", from);
    for (char **p = v; *p; p++)
        if (add_requested(c, *p, from, err) < 0)
            return -EINVAL;
    return 0;
}

static int parse_requested(const cni_conf *conf, const char *cni_args, ipam_conf *c, pr_error **err)
{
    _cleanup_free_ char *arg = cni_args_get(cni_args, "IP");
    if (arg) {
        char *save = NULL;
        for (char *s = strtok_r(arg, ",", &save); s; s = strtok_r(NULL, ",", &save))
            if (add_requested(c, s, "CNI_ARGS IP", err) < 0)
                return -EINVAL;
    }
    if (add_requested_array(c, json_get(json_get(conf->args, "cni"), "ips"), "args.cni.ips", err) <
        0)
        return -EINVAL;
    return add_requested_array(c, json_get(conf->runtime_config, "ips"), "runtimeConfig.ips", err);
}

int ipam_conf_parse(const cni_conf *conf, const char *cni_args, ipam_conf *c, pr_error **err)
{
    memset(c, 0, sizeof(*c));
    const char *data_dir = IPAM_DEFAULT_DATA_DIR, *resolv = NULL;
    yajl_val routes = NULL;
    if (!conf->ipam)
        return cni_err(err, CNI_ERR_INVALID_CONFIG, 0, "network configuration has no ipam");
    if (json_get_str(conf->ipam, "dataDir", ctx, &data_dir, err) < 0 ||
        json_get_str(conf->ipam, "resolvConf", ctx, &resolv, err) < 0 ||
        json_get_array(conf->ipam, "routes", ctx, &routes, err) < 0)
        return cni_err(err, CNI_ERR_INVALID_CONFIG, 0, "invalid ipam configuration");
    if (parse_ranges(conf->ipam, c, err) < 0)
        return -EINVAL;
    if (cni_routes_parse(routes, "ipam", &c->routes, &c->n_routes, err) < 0)
        return -EINVAL;
    if (resolv && parse_resolv_conf(resolv, &c->dns, err) < 0)
        return -EINVAL;
    if (parse_requested(conf, cni_args, c, err) < 0)
        return -EINVAL;
    c->dir = xasprintf("%s/%s", data_dir, conf->name);
    return 0;
}

/* The store. */

typedef struct store {
    int dirfd;
    int lockfd;
} store;

static void store_close(store *s)
{
    if (s->lockfd >= 0)
        close(s->lockfd);
    if (s->dirfd >= 0)
        close(s->dirfd);
}
#define _cleanup_store_ _cleanup_(store_close)

static int store_open(const ipam_conf *c, bool exclusive, store *s, pr_error **err)
{
    s->dirfd = s->lockfd = -1;
    int r = mkdir_p(c->dir, 0755, err);
    if (r < 0)
        return cni_err(err, CNI_ERR_IO, -r, "creating ipam data dir %s", c->dir);
    s->dirfd = open(c->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (s->dirfd < 0)
        return cni_err(err, CNI_ERR_IO, errno, "opening %s", c->dir);
    s->lockfd = openat(s->dirfd, "lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (s->lockfd < 0)
        return cni_err(err, CNI_ERR_IO, errno, "opening %s/lock", c->dir);
    while (flock(s->lockfd, exclusive ? LOCK_EX : LOCK_SH) < 0)
        if (errno != EINTR)
            return cni_err(err, CNI_ERR_IO, errno, "locking %s/lock", c->dir);
    return 0;
}

static char *id_link_name(const char *id, const char *ifname)
{
    /* '%' cannot occur in a container id, so the name splits back unambiguously. */
    return xasprintf("id%%%s%%%s", id, ifname);
}

/* Owner of an allocation file: true when it is (id, ifname). */
static bool owned_by(int dirfd, const char *ipname, const char *id, const char *ifname)
{
    char buf[512];
    _cleanup_close_ int fd = openat(dirfd, ipname, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return false;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    if (n < 0 || n == (ssize_t)sizeof(buf) - 1)
        return false; /* longer than any id and ifname we accept: not ours */
    buf[n] = '\0';
    char *sep = strstr(buf, "\r\n");
    if (!sep)
        return false; /* pre-ifname host-local files: owner unknown, never ours */
    *sep = '\0';
    return streq(buf, id) && streq(sep + 2, ifname);
}

static int read_owner(int dirfd, const char *ipname, char **id, char **ifname)
{
    char buf[512];
    _cleanup_close_ int fd = openat(dirfd, ipname, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return -errno;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    if (n < 0)
        return -errno;
    buf[n] = '\0';
    char *sep = strstr(buf, "\r\n");
    *ifname = xstrdup(sep ? sep + 2 : "");
    if (sep)
        *sep = '\0';
    *id = xstrdup(buf);
    return 0;
}

/* The owner goes into a temporary file first and the file is linked to the address's name
 * after: an ADD killed half-way leaves no empty allocation that no DEL could match to its
 * owner, which would hold the address for good. The store lock is held, so one name for the
 * temporary file does; a leftover one goes at the next allocation or DEL. */
#define ALLOCATION_TMP ".allocation.tmp"

static int create_allocation(int dirfd, const cni_ip *ip, const char *id, const char *ifname)
{
    static const char tmp[] = ALLOCATION_TMP;
    char name[CNI_IP_STRLEN];
    cni_ip_fmt(ip, name);
    _cleanup_close_ int fd =
        openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0)
        return -errno;
    _cleanup_free_ char *content = xasprintf("%s\r\n%s", id, ifname);
    size_t len = strlen(content);
    int r = 0;
    errno = 0;
    if (write(fd, content, len) != (ssize_t)len)
        r = -(errno ? errno : EIO);
    else if (linkat(dirfd, tmp, dirfd, name, 0) < 0)
        r = -errno;
    unlinkat(dirfd, tmp, 0);
    return r;
}

static bool ip_in_range(const ipam_range *r, const cni_ip *ip)
{
    return ip->family == r->start.family && cni_ip_cmp(ip, &r->start) >= 0 &&
           cni_ip_cmp(ip, &r->end) <= 0;
}

/* Which range set and range hold ip; false if none. */
static bool find_range(const ipam_conf *c, const cni_ip *ip, size_t *set, size_t *range)
{
    for (size_t i = 0; i < c->n_sets; i++)
        for (size_t j = 0; j < c->sets[i].n; j++)
            if (ip_in_range(&c->sets[i].ranges[j], ip)) {
                *set = i;
                *range = j;
                return true;
            }
    return false;
}

static bool is_gateway(const ipam_rangeset *s, const cni_ip *ip)
{
    for (size_t j = 0; j < s->n; j++)
        if (s->ranges[j].gw.family && cni_ip_eq(&s->ranges[j].gw, ip))
            return true;
    return false;
}

static char *set_describe(const ipam_rangeset *s)
{
    char *out = xstrdup("");
    for (size_t j = 0; j < s->n; j++) {
        char a[CNI_IP_STRLEN], b[CNI_IP_STRLEN];
        char *n = xasprintf("%s%s%s-%s", out, j ? "," : "", cni_ip_fmt(&s->ranges[j].start, a),
                            cni_ip_fmt(&s->ranges[j].end, b));
        free(out);
        out = n;
    }
    return out;
}

static bool read_last_reserved(int dirfd, size_t set, cni_ip *ip)
{
    char name[64], buf[CNI_IP_STRLEN + 1];
    snprintf(name, sizeof(name), "last_reserved_ip.%zu", set);
    _cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    if (n <= 0)
        return false;
    buf[n] = '\0';
    buf[strcspn(buf, "\r\n")] = '\0';
    return cni_ip_parse(buf, ip);
}

static void write_last_reserved(int dirfd, size_t set, const cni_ip *ip)
{
    char name[64], tmp[80], buf[CNI_IP_STRLEN];
    snprintf(name, sizeof(name), "last_reserved_ip.%zu", set);
    snprintf(tmp, sizeof(tmp), ".%s.tmp", name);
    cni_ip_fmt(ip, buf);
    /* Only a hint for where to continue, so no fsync; the rename keeps readers whole. */
    _cleanup_close_ int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return;
    if (write(fd, buf, strlen(buf)) != (ssize_t)strlen(buf) ||
        renameat(dirfd, tmp, dirfd, name) < 0)
        unlinkat(dirfd, tmp, 0);
}

/* Walks the set's addresses round-robin from after the last reserved one, as host-local does,
 * so a released address is not handed out again at once. */
typedef struct walker {
    const ipam_rangeset *s;
    size_t ri;
    cni_ip cur;
} walker;

static void walker_next(walker *w)
{
    if (cni_ip_eq(&w->cur, &w->s->ranges[w->ri].end)) {
        w->ri = (w->ri + 1) % w->s->n;
        w->cur = w->s->ranges[w->ri].start;
    } else {
        cni_ip_add(&w->cur, 1);
    }
}

static void walker_init(walker *w, const ipam_rangeset *s, int dirfd, size_t set)
{
    cni_ip last;
    w->s = s;
    w->ri = 0;
    w->cur = s->ranges[0].start;
    if (read_last_reserved(dirfd, set, &last))
        for (size_t j = 0; j < s->n; j++)
            if (ip_in_range(&s->ranges[j], &last)) {
                w->ri = j;
                w->cur = last;
                walker_next(w);
                break;
            }
}

/* The next free address in set `set`, created as an allocation for (id, ifname). */
static int allocate_next(const ipam_conf *c, int dirfd, size_t set, const char *id,
                         const char *ifname, cni_ip *out, pr_error **err)
{
    const ipam_rangeset *s = &c->sets[set];
    walker w;
    walker_init(&w, s, dirfd, set);
    cni_ip first = w.cur;
    for (unsigned probes = 0; probes < IPAM_MAX_PROBES; probes++) {
        if (!is_gateway(s, &w.cur)) {
            int r = create_allocation(dirfd, &w.cur, id, ifname);
            if (r == 0) {
                *out = w.cur;
                return 0;
            }
            if (r != -EEXIST)
                return cni_err(err, CNI_ERR_IO, -r, "writing allocation in %s", c->dir);
        }
        walker_next(&w);
        if (cni_ip_eq(&w.cur, &first))
            break;
    }
    _cleanup_free_ char *desc = set_describe(s);
    return cni_err(err, CNI_ERR_TRY_AGAIN_LATER, 0, "no IP addresses available in range set: %s",
                   desc);
}

/* The link's target: the addresses, then "|ns:" and the network namespace they were given
 * for (ADDs from before it was recorded have none). */
#define NETNS_SEP "|ns:"

/* The addresses recorded for an attachment, if its link and every file still agree; *netns
 * (optional, 128 bytes) gets the namespace recorded, or "" when there is none. */
static int lookup_attachment(const ipam_conf *c, int dirfd, const char *id, const char *ifname,
                             cni_ip *ips, size_t *n, char *netns)
{
    _cleanup_free_ char *link = id_link_name(id, ifname);
    char buf[1024];
    *n = 0;
    if (netns)
        netns[0] = '\0';
    ssize_t len = readlinkat(dirfd, link, buf, sizeof(buf) - 1);
    if (len < 0)
        return -errno;
    buf[len] = '\0';
    char *ns = strstr(buf, NETNS_SEP);
    if (ns) {
        *ns = '\0';
        if (netns)
            snprintf(netns, 128, "%s", ns + strlen(NETNS_SEP));
    }
    char *save = NULL;
    for (char *s = strtok_r(buf, ",", &save); s; s = strtok_r(NULL, ",", &save)) {
        if (*n >= c->n_sets || !cni_ip_parse(s, &ips[*n]) || !owned_by(dirfd, s, id, ifname))
            return -ESTALE;
        (*n)++;
    }
    return 0;
}

static void release_ip(int dirfd, const cni_ip *ip, const char *id, const char *ifname)
{
    char name[CNI_IP_STRLEN];
    cni_ip_fmt(ip, name);
    if (owned_by(dirfd, name, id, ifname))
        unlinkat(dirfd, name, 0);
}

/* Removes every allocation of (id, ifname): through its link, or by a scan for stores
 * written by something else. The link goes last, and only once every address it names is
 * gone: an address that could not be removed stays findable for the DEL that retries. Returns
 * 0 or the negative errno of the first removal that failed. */
static int release_attachment(const ipam_conf *c, int dirfd, const char *id, const char *ifname)
{
    _cleanup_free_ char *link = id_link_name(id, ifname);
    char buf[1024];
    int r = 0;
    ssize_t len = readlinkat(dirfd, link, buf, sizeof(buf) - 1);
    if (len >= 0) {
        buf[len] = '\0';
        char *ns = strstr(buf, NETNS_SEP);
        if (ns)
            *ns = '\0';
        char *save = NULL;
        for (char *s = strtok_r(buf, ",", &save); s; s = strtok_r(NULL, ",", &save))
            if (owned_by(dirfd, s, id, ifname) && unlinkat(dirfd, s, 0) < 0 && errno != ENOENT &&
                r == 0)
                r = -errno;
        if (r == 0 && unlinkat(dirfd, link, 0) < 0 && errno != ENOENT)
            r = -errno;
        return r;
    }
    (void)c;
    int fd = dup(dirfd);
    if (fd < 0)
        return -errno;
    _cleanup_dir_ DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return -errno;
    }
    struct dirent *de;
    cni_ip ip;
    while ((de = readdir(d)))
        if (cni_ip_parse(de->d_name, &ip) && owned_by(dirfd, de->d_name, id, ifname) &&
            unlinkat(dirfd, de->d_name, 0) < 0 && errno != ENOENT && r == 0)
            r = -errno;
    return r;
}

static void fill_result(const ipam_conf *c, const cni_ip *ips, size_t n, cni_result *res)
{
    for (size_t i = 0; i < n; i++) {
        size_t set, range;
        if (!find_range(c, &ips[i], &set, &range))
            continue;
        const ipam_range *r = &c->sets[set].ranges[range];
        cni_ipconf ip = {.addr = {.ip = ips[i], .plen = r->subnet.plen}, .iface = -1};
        ip.gw = r->gw;
        cni_result_add_ip(res, &ip);
    }
    for (size_t i = 0; i < c->n_routes; i++)
        cni_result_add_route(res, &c->routes[i]);
    cni_dns_copy(&res->dns, &c->dns);
}

static int write_link(int dirfd, const char *id, const char *ifname, const cni_ip *ips, size_t n,
                      const char *netns, pr_error **err)
{
    _cleanup_free_ char *link = id_link_name(id, ifname);
    _cleanup_free_ char *target = xstrdup("");
    char a[CNI_IP_STRLEN];
    for (size_t i = 0; i < n; i++) {
        char *t = xasprintf("%s%s%s", target, i ? "," : "", cni_ip_fmt(&ips[i], a));
        free(target);
        target = t;
    }
    if (netns && *netns) {
        char *t = xasprintf("%s" NETNS_SEP "%s", target, netns);
        free(target);
        target = t;
    }
    unlinkat(dirfd, link, 0);
    if (symlinkat(target, dirfd, link) < 0)
        return cni_err(err, CNI_ERR_IO, errno, "recording attachment %s/%s", id, ifname);
    return 0;
}

static int claim_requested(const ipam_conf *c, int dirfd, const char *id, const char *ifname,
                           cni_ip *chosen, bool *have, pr_error **err)
{
    char a[CNI_IP_STRLEN];
    for (size_t k = 0; k < c->n_requested; k++) {
        const cni_ip *ip = &c->requested[k];
        size_t set, range;
        if (!find_range(c, ip, &set, &range))
            return cni_err(err, CNI_ERR_INVALID_CONFIG, 0,
                           "requested IP address %s is not in any range", cni_ip_fmt(ip, a));
        if (have[set])
            return cni_err(err, CNI_ERR_INVALID_CONFIG, 0,
                           "requested IP address %s: only one address per range set",
                           cni_ip_fmt(ip, a));
        if (is_gateway(&c->sets[set], ip))
            return cni_err(err, CNI_ERR_INVALID_CONFIG, 0, "requested IP address %s is the gateway",
                           cni_ip_fmt(ip, a));
        int r = create_allocation(dirfd, ip, id, ifname);
        if (r == -EEXIST && !owned_by(dirfd, cni_ip_fmt(ip, a), id, ifname))
            return cni_err(err, CNI_ERR_ADDRESS_IN_USE, 0,
                           "requested IP address %s is not available in range set %zu", a, set);
        if (r < 0 && r != -EEXIST)
            return cni_err(err, CNI_ERR_IO, -r, "writing allocation in %s", c->dir);
        chosen[set] = *ip;
        have[set] = true;
    }
    return 0;
}

void ipam_netns_identity(const char *netns, char out[static 128])
{
    struct stat st;
    if (netns && stat(netns, &st) == 0)
        snprintf(out, 128, "%llu:%llu", (unsigned long long)st.st_dev,
                 (unsigned long long)st.st_ino);
    else
        snprintf(out, 128, "path:%.100s", netns ? netns : "");
    /* The link target carries it: no separator of ours, no newline. */
    for (char *p = out; *p; p++)
        if (*p == ',' || *p == '|' || (unsigned char)*p < ' ')
            *p = '_';
}

int ipam_add(const ipam_conf *c, const char *id, const char *ifname, const char *netns,
             cni_result *res, pr_error **err)
{
    _cleanup_store_ store s;
    int r = store_open(c, true, &s, err);
    if (r < 0)
        return r;

    _cleanup_free_ cni_ip *chosen = xcalloc(c->n_sets, sizeof(cni_ip));
    _cleanup_free_ bool *have = xcalloc(c->n_sets, sizeof(bool));
    size_t n = 0;
    char ns[128] = "", recorded[128];
    if (netns)
        ipam_netns_identity(netns, ns);
    int found = lookup_attachment(c, s.dirfd, id, ifname, chosen, &n, recorded);
    if (n > 0 && *recorded && *ns && !streq(recorded, ns)) {
        /* Handing its address to a second namespace would put one IP in two places; host-local
         * refuses it too. The first namespace keeps it until a DEL. */
        char a[CNI_IP_STRLEN];
        return cni_err(err, CNI_ERR_DUPLICATE_ATTACHMENT, 0,
                       "%s has been allocated to %s/%s in another network namespace, duplicate "
                       "allocation is not allowed",
                       cni_ip_fmt(&chosen[0], a), id, ifname);
    }
    if (found == 0 && n == c->n_sets && c->n_requested == 0) {
        /* The same attachment again (a retried ADD): same answer. */
        fill_result(c, chosen, n, res);
        return 0;
    }
    (void)release_attachment(c, s.dirfd, id, ifname); /* what is left is found again later */
    memset(chosen, 0, c->n_sets * sizeof(cni_ip));

    r = claim_requested(c, s.dirfd, id, ifname, chosen, have, err);
    for (size_t i = 0; r == 0 && i < c->n_sets; i++) {
        if (have[i])
            continue;
        r = allocate_next(c, s.dirfd, i, id, ifname, &chosen[i], err);
        if (r == 0) {
            have[i] = true;
            write_last_reserved(s.dirfd, i, &chosen[i]);
        }
    }
    if (r == 0)
        r = write_link(s.dirfd, id, ifname, chosen, c->n_sets, ns, err);
    if (r < 0) {
        /* Nothing half-made: give back what this call took. */
        for (size_t i = 0; i < c->n_sets; i++)
            if (have[i])
                release_ip(s.dirfd, &chosen[i], id, ifname);
        _cleanup_free_ char *link = id_link_name(id, ifname);
        unlinkat(s.dirfd, link, 0);
        return r;
    }
    fill_result(c, chosen, c->n_sets, res);
    return 0;
}

int ipam_del(const ipam_conf *c, const char *id, const char *ifname, pr_error **err)
{
    _cleanup_store_ store s;
    int r = store_open(c, true, &s, err);
    if (r < 0)
        return r;
    if ((r = release_attachment(c, s.dirfd, id, ifname)) < 0)
        return pr_err(err, -r, "release the addresses of %s/%s in `%s`", id, ifname, c->dir);
    /* Only an ADD that died holding the lock leaves one; it names no address. */
    unlinkat(s.dirfd, ALLOCATION_TMP, 0);
    return 0;
}

int ipam_check(const ipam_conf *c, const char *id, const char *ifname, pr_error **err)
{
    _cleanup_store_ store s;
    int r = store_open(c, false, &s, err);
    if (r < 0)
        return r;
    _cleanup_free_ cni_ip *ips = xcalloc(c->n_sets, sizeof(cni_ip));
    size_t n = 0;
    r = lookup_attachment(c, s.dirfd, id, ifname, ips, &n, NULL);
    if (r < 0 || n != c->n_sets)
        return cni_err(err, CNI_ERR_CHECK_FAILED, 0,
                       "podrun-ipam: no address allocated to %s/%s in %s", id, ifname, c->dir);
    return 0;
}

static bool is_valid(char **ids, char **ifnames, const char *id, const char *ifname)
{
    for (size_t i = 0; ids && ids[i]; i++)
        if (streq(ids[i], id) && streq(ifnames[i], ifname))
            return true;
    return false;
}

int ipam_gc(const ipam_conf *c, char **ids, char **ifnames, pr_error **err)
{
    _cleanup_store_ store s;
    int r = store_open(c, true, &s, err);
    if (r < 0)
        return r;
    int fd = dup(s.dirfd);
    if (fd < 0)
        return cni_err(err, CNI_ERR_IO, errno, "dup");
    _cleanup_dir_ DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return cni_err(err, CNI_ERR_IO, errno, "reading %s", c->dir);
    }
    struct dirent *de;
    cni_ip ip;
    while ((de = readdir(d))) {
        if (cni_ip_parse(de->d_name, &ip)) {
            _cleanup_free_ char *id = NULL, *ifname = NULL;
            if (read_owner(s.dirfd, de->d_name, &id, &ifname) == 0 &&
                !is_valid(ids, ifnames, id, ifname)) {
                pr_debug("ipam gc: releasing %s of %s/%s", de->d_name, id, ifname);
                unlinkat(s.dirfd, de->d_name, 0);
            }
        } else if (has_prefix(de->d_name, "id%")) {
            _cleanup_free_ char *name = xstrdup(de->d_name + 3);
            char *sep = strchr(name, '%');
            if (sep) {
                *sep = '\0';
                if (is_valid(ids, ifnames, name, sep + 1))
                    continue;
            }
            unlinkat(s.dirfd, de->d_name, 0);
        }
    }
    return 0;
}

int ipam_status(const ipam_conf *c, pr_error **err)
{
    _cleanup_error_ pr_error *inner = NULL;
    _cleanup_store_ store s;
    if (store_open(c, false, &s, &inner) < 0)
        return cni_err(err, CNI_ERR_NOT_AVAILABLE, 0, "ipam store unavailable: %s", inner->msg);
    if (faccessat(s.dirfd, ".", W_OK, AT_EACCESS) < 0)
        return cni_err(err, CNI_ERR_NOT_AVAILABLE, errno, "ipam store %s is not writable", c->dir);
    for (size_t i = 0; i < c->n_sets; i++) {
        walker w;
        walker_init(&w, &c->sets[i], s.dirfd, i);
        cni_ip first = w.cur;
        bool found = false;
        char name[CNI_IP_STRLEN];
        for (unsigned probes = 0; !found && probes < IPAM_MAX_PROBES; probes++) {
            if (!is_gateway(&c->sets[i], &w.cur) &&
                faccessat(s.dirfd, cni_ip_fmt(&w.cur, name), F_OK, AT_SYMLINK_NOFOLLOW) < 0)
                found = true;
            walker_next(&w);
            if (cni_ip_eq(&w.cur, &first))
                break;
        }
        if (!found) {
            _cleanup_free_ char *desc = set_describe(&c->sets[i]);
            return cni_err(err, CNI_ERR_NOT_AVAILABLE, 0,
                           "no IP addresses available in range set: %s", desc);
        }
    }
    return 0;
}
