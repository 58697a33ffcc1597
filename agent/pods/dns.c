/* SPDX-License-Identifier: Apache-2.0 */
/* The cluster DNS: Debian's dnsmasq, one per node, configured and supervised by podrun while a
 * Service exists or a pod uses it (DESIGN.md, "Cluster DNS"). It listens on the pod network's
 * gateway (the bridge's address, every pod's next hop) and answers from what podrun writes
 * under RUN_ROOT/dns/:
 *   hosts/services  A records: SVC.NS.svc.DOMAIN (clusterIP, or a headless service's ready
 *                   endpoints), HOSTNAME.SVC.NS.svc.DOMAIN and A-B-C-D.SVC.NS.svc.DOMAIN of a
 *                   headless service's endpoints; dnsmasq watches the directory (inotify), so a
 *                   change needs no restart
 *   dnsmasq.conf    what dnsmasq reads only when it starts: its address, the cluster domain
 *                   (answered from these files alone), the node's resolver for every other name,
 *                   ExternalName CNAMEs and SRV records; a change restarts it
 *   dnsmasq.pid     its pid (it daemonizes); dnsmasq.log: its log, which it holds open for
 *                   writing, so that its death closes it and wakes the controller loop
 * pods_dns_sync brings this in line with the stored services and the pods as they are, and
 * restarts dnsmasq when it is gone; with no Service and no pod using it left it stops it and
 * removes the directory. */
#include "fs.h"
#include "manager.h"
#include "util.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#define DNSMASQ_DEFAULT "/usr/sbin/dnsmasq"
#define PID_MAX_TEXT    32

static char *dns_dir(pods_manager *m)
{
    return xasprintf("%s/dns", m->run_root);
}

/* The gateway of the pod network: the first address of its subnet, as podrun-bridge gives it
 * to the bridge (a conflist of another layout names its subnet in node.yaml's podCIDR). */
char *pods_dns_address(pods_manager *m)
{
    _cleanup_free_ char *cidr = pods_node_pod_cidr(m);
    const char *c = cidr ? cidr : PODS_DEFAULT_SUBNET;
    size_t n = strcspn(c, "/");
    _cleanup_free_ char *net = xstrndup(c, n);
    struct in_addr a;
    unsigned long plen = c[n] ? strtoul(c + n + 1, NULL, 10) : 32;
    if (inet_pton(AF_INET, net, &a) != 1 || plen > 30)
        return NULL;
    uint32_t h = (ntohl(a.s_addr) & (uint32_t)(~0ull << (32 - plen))) + 1;
    a.s_addr = htonl(h);
    char buf[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &a, buf, sizeof(buf));
    return xstrdup(buf);
}

/* A pod whose resolv.conf names the cluster DNS has this mark in its run directory, which
 * goes with the pod. */
#define USER_MARK "cluster-dns"

/* Whether any pod's run directory has the mark. */
static bool has_users(pods_manager *m)
{
    _cleanup_free_ char *pods = xasprintf("%s/pods", m->run_root);
    _cleanup_dir_ DIR *d = opendir(pods);
    if (!d)
        return false;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.')
            continue;
        _cleanup_free_ char *mark = xasprintf("%s/%s/" USER_MARK, pods, e->d_name);
        if (access(mark, F_OK) == 0)
            return true;
    }
    return false;
}

/* The cluster DNS runs while a Service is stored or a pod uses it, as CoreDNS runs on a
 * cluster whatever it holds: a pod made before the first Service resolves the services made
 * after it. */
bool pods_dns_enabled(pods_manager *m)
{
    return pods_objects_stored(m, "services") || has_users(m);
}

/* ---- what dnsmasq should serve ---- */

/* A file's text, grown in place (a node may have thousands of names). */
struct text {
    char *s;
    size_t len, cap;
};

static void text_add(struct text *t, const char *a, const char *b)
{
    size_t la = strlen(a), lb = b ? strlen(b) + 1 : 0;
    if (t->len + la + lb + 2 > t->cap) {
        t->cap = MAX(t->cap * 2, t->len + la + lb + 2 + 4096);
        t->s = xrealloc(t->s, t->cap);
    }
    memcpy(t->s + t->len, a, la);
    t->len += la;
    if (b) {
        t->s[t->len++] = ' ';
        memcpy(t->s + t->len, b, lb - 1);
        t->len += lb - 1;
    }
    t->s[t->len++] = '\n';
    t->s[t->len] = '\0';
}

struct dns_want {
    struct text hosts; /* the hosts file */
    struct text conf;  /* dnsmasq.conf */
};

static void add_host(struct text *t, const char *ip, const char *name)
{
    text_add(t, ip, name);
}

static void add_line(struct text *t, char *line)
{
    text_add(t, line, NULL);
    free(line);
}

static char *lower(const char *s)
{
    char *r = xstrdup(s);
    for (char *p = r; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    return r;
}

static char *dashed(const char *ip)
{
    char *r = xstrdup(ip);
    for (char *p = r; *p; p++)
        if (*p == '.')
            *p = '-';
    return r;
}

/* A headless service's ready endpoints: an A record per address under the service's name, one
 * per endpoint under its hostname (the pod's spec.hostname when its subdomain is the service,
 * as StatefulSets' pods have, or an EndpointSlice endpoint's hostname) or its dashed address,
 * and SRV records naming those. */
static void headless(struct dns_want *w, const char *fqdn, size_t si,
                     const struct pods_endpoints *eps, char ***srv)
{
    _cleanup_strv_ char **seen = NULL;
    for (size_t k = 0; k < eps->n; k++) {
        const struct pods_endpoint *e = &eps->v[k];
        if (e->service != si || !e->ready)
            continue;
        _cleanup_free_ char *d = dashed(e->ip);
        _cleanup_free_ char *host = xasprintf("%s.%s", e->hostname ? e->hostname : d, fqdn);
        bool known = false;
        for (char **x = seen; x && *x && !known; x++)
            known = streq(*x, e->ip);
        if (!known) {
            strv_extend(&seen, e->ip);
            /* Its own name first: dnsmasq answers a reverse lookup with an address's first
             * name, and CoreDNS answers HOSTNAME.SVC.NS.svc.DOMAIN. */
            add_host(&w->hosts, e->ip, host);
            add_host(&w->hosts, e->ip, fqdn);
        }
        if (e->port_name && *e->port_name) {
            _cleanup_free_ char *proto = lower(e->protocol);
            strv_consume(srv, xasprintf("srv-host=_%s._%s.%s,%s,%d", e->port_name, proto, fqdn,
                                        host, e->port));
        }
    }
}

static void conf_head(pods_manager *m, const char *dir, const char *addr, struct text *conf)
{
    add_line(conf, xstrdup("# Written by podrun (agent/pods/dns.c): the cluster DNS of the "
                           "services. Do not edit."));
    add_line(conf, xasprintf("listen-address=%s", addr));
    /* The bridge (and so its address) may come after: bind when it appears. */
    add_line(conf, xstrdup("bind-dynamic"));
    add_line(conf, xstrdup("port=53"));
    add_line(conf, xstrdup("no-hosts"));
    add_line(conf, xasprintf("hostsdir=%s/hosts", dir));
    add_line(conf, xasprintf("pid-file=%s/dnsmasq.pid", dir));
    add_line(conf, xasprintf("log-facility=%s/dnsmasq.log", dir));
    /* The run root is the root user's alone: dnsmasq keeps its user to read the hosts. */
    add_line(conf, xstrdup("user=root"));
    /* The cluster domain is answered from podrun's files alone (NXDOMAIN for other names in
     * it, as kube-dns answers), never asked upstream. */
    add_line(conf, xasprintf("local=/%s/", pods_cluster_domain(m)));
    add_line(conf, xstrdup("domain-needed"));
    if (*m->resolv_conf)
        add_line(conf, xasprintf("resolv-file=%s", m->resolv_conf));
    else {
        /* --resolv-conf "": the nameserver on this machine, as the kubelet reads it. */
        add_line(conf, xstrdup("no-resolv"));
        add_line(conf, xstrdup("server=127.0.0.1"));
    }
}

void pods_dns_note(struct pods_dns_services *l, const char *ns, const char *name,
                   const struct kube_service_spec *s)
{
    struct pods_dns_service d = {
        .ns = xstrdup(ns),
        .name = xstrdup(name),
        .type = xstrdup(s->type),
        .cluster_ip = s->cluster_ip ? xstrdup(s->cluster_ip) : NULL,
        .external_name = s->external_name ? xstrdup(s->external_name) : NULL,
    };
    for (size_t p = 0; p < s->n_ports; p++)
        if (s->ports[p].name && *s->ports[p].name) {
            _cleanup_free_ char *proto = lower(s->ports[p].protocol);
            strv_consume(&d.srv, xasprintf("%s %s %d", s->ports[p].name, proto, s->ports[p].port));
        }
    l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
    l->v[l->n++] = d;
}

void pods_dns_services_clear(struct pods_dns_services *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].ns);
        free(l->v[i].name);
        free(l->v[i].type);
        free(l->v[i].cluster_ip);
        free(l->v[i].external_name);
        strv_free(l->v[i].srv);
    }
    free(l->v);
    *l = (struct pods_dns_services){0};
}

/* A headless service's names, from its endpoints (computed for it alone: they are few). */
static int headless_of(pods_manager *m, struct dns_want *w, const struct pods_dns_service *s,
                       const char *fqdn, char ***extra, pr_error **err)
{
    struct pods_endpoints eps = {0};
    int r = pods_service_endpoints(m, s->ns, s->name, &eps, err);
    if (r == 0 && eps.n_services)
        headless(w, fqdn, 0, &eps, extra);
    pods_endpoints_of_clear(&eps);
    return r;
}

static int dns_desired(pods_manager *m, const struct pods_dns_services *l, const char *dir,
                       const char *addr, struct dns_want *w, pr_error **err)
{
    _cleanup_strv_ char **extra = NULL;
    const char *domain = pods_cluster_domain(m);
    int r = 0;
    conf_head(m, dir, addr, &w->conf);
    add_line(&w->hosts, xstrdup("# Written by podrun: the services' names. Do not edit."));
    for (size_t i = 0; r == 0 && i < l->n; i++) {
        const struct pods_dns_service *s = &l->v[i];
        _cleanup_free_ char *fqdn = xasprintf("%s.%s.svc.%s", s->name, s->ns, domain);
        if (streq(s->type, "ExternalName")) {
            if (s->external_name)
                strv_consume(&extra, xasprintf("cname=%s,%s", fqdn, s->external_name));
        } else if (s->cluster_ip && streq(s->cluster_ip, "None")) {
            r = headless_of(m, w, s, fqdn, &extra, err);
        } else if (s->cluster_ip) {
            add_host(&w->hosts, s->cluster_ip, fqdn);
            for (char **p = s->srv; p && *p; p++) {
                _cleanup_free_ char *name = xstrndup(*p, strcspn(*p, " "));
                const char *proto = *p + strlen(name) + 1;
                size_t pl = strcspn(proto, " ");
                strv_consume(&extra, xasprintf("srv-host=_%s._%.*s.%s,%s,%s", name, (int)pl, proto,
                                               fqdn, fqdn, proto + pl + 1));
            }
        }
    }
    for (char **e = extra; e && *e; e++)
        add_line(&w->conf, xstrdup(*e));
    return r;
}

/* ---- the process ---- */

/* Whether pid is a live dnsmasq reading our configuration (a pid may be another's by now). */
static bool is_ours(pid_t pid, const char *dir)
{
    _cleanup_free_ char *cmdf = xasprintf("/proc/%d/cmdline", (int)pid), *cmd = NULL;
    _cleanup_free_ char *statf = xasprintf("/proc/%d/stat", (int)pid), *st = NULL;
    _cleanup_free_ char *want = xasprintf("--conf-file=%s/dnsmasq.conf", dir);
    _cleanup_error_ pr_error *e = NULL;
    size_t len, slen;
    if (read_file_max(cmdf, 8192, 0, &cmd, &len, &e) < 0 ||
        read_file_max(statf, 4096, 0, &st, &slen, &e) < 0)
        return false;
    const char *p = strrchr(st, ')');
    if (!p || p[1] != ' ' || p[2] == 'Z')
        return false; /* a zombie: dead already */
    for (size_t off = 0; off < len; off += strlen(cmd + off) + 1)
        if (streq(cmd + off, want))
            return true;
    return false;
}

/* dnsmasq's pid when the one its pid file names runs with our configuration; 0 otherwise. */
static pid_t running_pid(const char *dir)
{
    _cleanup_free_ char *pidf = xasprintf("%s/dnsmasq.pid", dir), *text = NULL;
    size_t len;
    _cleanup_error_ pr_error *e = NULL;
    if (read_file_max(pidf, PID_MAX_TEXT, READ_REGULAR, &text, &len, &e) < 0)
        return 0;
    long pid = strtol(text, NULL, 10);
    if (pid > 1 && pid <= INT32_MAX && is_ours((pid_t)pid, dir))
        return (pid_t)pid;
    return 0;
}

/* The dnsmasq of this directory, by its pid file or, when that is not written yet (a daemon
 * just forked) or stale, by its command line; 0 when none runs. */
static pid_t find_running(const char *dir)
{
    pid_t pid = running_pid(dir);
    if (pid)
        return pid;
    _cleanup_dir_ DIR *d = opendir("/proc");
    for (struct dirent *e; d && (e = readdir(d));) {
        char *end = NULL;
        long p = strtol(e->d_name, &end, 10);
        if (p > 1 && p <= INT32_MAX && end && !*end && is_ours((pid_t)p, dir))
            return (pid_t)p;
    }
    return 0;
}

/* Whether pid has exited (gone, or a zombie): only then are its sockets closed. While it
 * exits its command line reads empty before its descriptors are closed, so is_ours cannot
 * tell. */
static bool exited(pid_t pid)
{
    _cleanup_free_ char *statf = xasprintf("/proc/%d/stat", (int)pid), *st = NULL;
    _cleanup_error_ pr_error *e = NULL;
    size_t len;
    if (read_file_max(statf, 4096, 0, &st, &len, &e) < 0)
        return true;
    const char *p = strrchr(st, ')');
    return !p || p[1] != ' ' || p[2] == 'Z' || p[2] == 'X';
}

static void stop_one(const char *dir, pid_t pid)
{
    /* By pidfd where the kernel has one: the signal cannot reach a recycled pid, and poll
     * says when it has exited. */
    _cleanup_close_ int fd = sys_pidfd_open(pid, 0);
    if (fd >= 0) {
        struct pollfd p = {fd, POLLIN, 0};
        if (!is_ours(pid, dir))
            return; /* gone, and its pid taken, since it was found */
        sys_pidfd_send_signal(fd, SIGTERM);
        if (poll(&p, 1, 2000) == 1)
            return;
        sys_pidfd_send_signal(fd, SIGKILL);
        poll(&p, 1, 1000);
        return;
    }
    kill(pid, SIGTERM);
    /* Not our child (it daemonized): wait until it has exited, as /proc says. */
    for (int i = 0; i < 300 && !exited(pid); i++) {
        if (i == 200)
            kill(pid, SIGKILL);
        usleep(10 * 1000);
    }
}

static void stop(const char *dir)
{
    /* Bounded: a process that outlives SIGKILL (stuck in the kernel) is not waited for. */
    pid_t pid;
    for (int i = 0; i < 4 && (pid = find_running(dir)); i++)
        stop_one(dir, pid);
}

static const char *dnsmasq_path(void)
{
    const char *e = getenv("PODRUN_DNSMASQ");
    return e && *e ? e : DNSMASQ_DEFAULT;
}

/* Starts dnsmasq, which daemonizes: its first process exits once the daemon is ready (or with
 * the reason it is not, which its log holds). */
static int start(const char *dir, pr_error **err)
{
    const char *bin = dnsmasq_path();
    if (access(bin, X_OK) < 0)
        return pr_err(err, errno,
                      "cluster DNS: `%s` cannot be run (install Debian's dnsmasq-base, or name "
                      "it in PODRUN_DNSMASQ)",
                      bin);
    _cleanup_free_ char *conf = xasprintf("--conf-file=%s/dnsmasq.conf", dir);
    _cleanup_free_ char *log = xasprintf("%s/dnsmasq.log", dir);
    /* What dnsmasq says before its log is open (a bad option, a port in use) goes here. */
    _cleanup_free_ char *said = xasprintf("%s/dnsmasq.start", dir);
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null < 0)
        return pr_err(err, errno, "open /dev/null");
    int out = open(said, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (out < 0) {
        int e = errno;
        close(null);
        return pr_err(err, e, "open `%s`", said);
    }
    char *const argv[] = {(char *)"dnsmasq", conf, NULL};
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(null);
        return pr_err(err, e, "fork");
    }
    if (pid == 0) {
        /* Exec-safe only. No terminal nor our pipes: a caller reading our output to its end
         * must not wait for the daemon. */
        dup2(null, 0);
        dup2(out, 1);
        dup2(out, 2);
        setsid();
        child_signals_default();
        execv(bin, argv);
        _exit(127);
    }
    close(null);
    close(out);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        _cleanup_free_ char *text = NULL;
        size_t len;
        _cleanup_error_ pr_error *e = NULL;
        if ((read_file_max(said, 1u << 16, READ_REGULAR, &text, &len, &e) == 0 && len) ||
            (read_file_max(log, 1u << 16, READ_REGULAR, &text, &len, &e) == 0 && len)) {
            while (len && text[len - 1] == '\n')
                text[--len] = '\0';
            const char *last = strrchr(text, '\n');
            return pr_err(err, 0, "cluster DNS: dnsmasq did not start (exit %d): %s",
                          WIFEXITED(status) ? WEXITSTATUS(status) : -1, last ? last + 1 : text);
        }
        return pr_err(err, 0, "cluster DNS: dnsmasq did not start (exit %d)",
                      WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    }
    return 0;
}

/* Writes path when its content differs, through stage (whole, then renamed over path: dnsmasq
 * watching path's directory must see only the finished file, or it would keep the names of a
 * temporary one); *changed says whether it did. */
static int write_if_changed(const char *path, const char *stage, const char *text, bool *changed,
                            pr_error **err)
{
    _cleanup_free_ char *have = NULL;
    size_t len;
    _cleanup_error_ pr_error *e = NULL;
    *changed = false;
    if (read_file_max(path, 64u << 20, READ_REGULAR, &have, &len, &e) == 0 && streq(have, text))
        return 0;
    *changed = true;
    int r = write_file_atomic_volatile(stage, text, strlen(text), 0600, err);
    if (r == 0 && rename(stage, path) < 0)
        r = pr_err(err, errno, "rename `%s` to `%s`", stage, path);
    return r;
}

bool pods_dns_runnable(void)
{
    return access(dnsmasq_path(), X_OK) == 0;
}

int pods_dns_use(pods_manager *m, const char *run_dir, pr_error **err)
{
    _cleanup_free_ char *mark = xasprintf("%s/" USER_MARK, run_dir);
    int r = write_file_atomic_volatile(mark, "", 0, 0600, err);
    if (r < 0)
        return r;
    /* With a Service stored, dnsmasq runs with its names (the services' sync restarts it when
     * it died); an empty list here would drop them. */
    if (pods_objects_stored(m, "services"))
        return 0;
    struct pods_dns_services none = {0};
    return pods_dns_sync(m, &none, err);
}

void pods_dns_release(pods_manager *m)
{
    if (pods_objects_stored(m, "services") || has_users(m))
        return;
    struct pods_dns_services none = {0};
    _cleanup_error_ pr_error *e = NULL;
    pods_dns_sync(m, &none, &e); /* stops it; what fails, the next sync meets again */
}

int pods_dns_sync(pods_manager *m, const struct pods_dns_services *l, pr_error **err)
{
    _cleanup_free_ char *dir = dns_dir(m);
    struct stat st;
    if (!l->n && !has_users(m)) {
        if (lstat(dir, &st) < 0)
            return 0;
        stop(dir);
        if (rm_rf(dir) < 0)
            return pr_err(err, errno, "cluster DNS: remove `%s`", dir);
        return 0;
    }
    if (strpbrk(m->resolv_conf, "\n\r"))
        return pr_err(err, 0, "cluster DNS: the resolv.conf path holds a line break");
    _cleanup_free_ char *addr = pods_dns_address(m);
    if (!addr)
        return pr_err(err, 0, "cluster DNS: the pod network's subnet is not an IPv4 network");
    _cleanup_free_ char *hosts_dir = xasprintf("%s/hosts", dir);
    /* Made once: a sync after every applied pod must not fail on making what is there. */
    int r = lstat(hosts_dir, &st) == 0 && S_ISDIR(st.st_mode) ? 0 : mkdir_p(hosts_dir, 0700, err);
    if (r < 0)
        return r;
    struct dns_want w = {0};
    r = dns_desired(m, l, dir, addr, &w, err);
    _cleanup_free_ char *hosts = xasprintf("%s/services", hosts_dir);
    _cleanup_free_ char *conf = xasprintf("%s/dnsmasq.conf", dir);
    bool hosts_changed = false, conf_changed = false;
    /* The names first: a dnsmasq (re)started below reads them as it starts. */
    _cleanup_free_ char *stage = xasprintf("%s/services.new", dir);
    if (r == 0)
        r = write_if_changed(hosts, stage, w.hosts.s, &hosts_changed, err);
    if (r == 0)
        r = write_if_changed(conf, stage, w.conf.s, &conf_changed, err);
    free(w.hosts.s);
    free(w.conf.s);
    if (r < 0)
        return pr_err_prefix(err, "cluster DNS");
    pid_t pid = find_running(dir);
    if (pid && !conf_changed)
        return 0;
    if (pid)
        stop(dir);
    return start(dir, err);
}
