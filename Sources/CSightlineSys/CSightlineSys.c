#define _GNU_SOURCE
#include "CSightlineSys.h"
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

int sl_epoll_ctl(int epfd, int op, int fd, uint32_t events, uint64_t token) {
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.events = events;
    ev.data.u64 = token;
    return epoll_ctl(epfd, op, fd, &ev);
}

int sl_epoll_wait(int epfd, sl_epoll_event *out, int max_events, int timeout_ms) {
    struct epoll_event evs[256];
    if (max_events > 256) max_events = 256;
    int n = epoll_wait(epfd, evs, max_events, timeout_ms);
    for (int i = 0; i < n; i++) {
        out[i].events = evs[i].events;
        out[i].token = evs[i].data.u64;
    }
    return n;
}

int sl_accept4(int listen_fd) { return accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC); }

static int resolve_ipv4(const char *host, struct in_addr *out) {
    if (host == NULL || host[0] == 0 || strcmp(host, "localhost") == 0) {
        out->s_addr = htonl(INADDR_LOOPBACK);
        return 0;
    }
    if (strcmp(host, "0.0.0.0") == 0 || strcmp(host, "*") == 0) {
        out->s_addr = htonl(INADDR_ANY);
        return 0;
    }
    return inet_pton(AF_INET, host, out) == 1 ? 0 : -EINVAL;
}

/* `host:port` as an IPv4 socket address; 0, or -EINVAL for a host that is not an IPv4 literal. */
static int ipv4_address(const char *host, int port, struct sockaddr_in *out) {
    memset(out, 0, sizeof *out);
    out->sin_family = AF_INET;
    out->sin_port = htons((uint16_t)port);
    return resolve_ipv4(host, &out->sin_addr);
}

int sl_listen_tcp(const char *host, int port, int backlog, int reuse_port) {
    struct sockaddr_in addr;
    int rc = ipv4_address(host, port, &addr);
    if (rc != 0) return rc;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (reuse_port) setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    if (listen(fd, backlog) != 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    return fd;
}

int sl_probe_tcp_port(const char *host, int port) {
    struct sockaddr_in addr;
    int rc = ipv4_address(host, port, &addr);
    if (rc != 0) return rc;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    int result = bind(fd, (struct sockaddr *)&addr, sizeof addr) == 0 ? 0 : -errno;
    close(fd);
    return result;
}

int sl_local_port(int fd) {
    struct sockaddr_in addr;
    socklen_t len = sizeof addr;
    if (getsockname(fd, (struct sockaddr *)&addr, &len) != 0) return -errno;
    return ntohs(addr.sin_port);
}

int sl_connect_tcp(const char *host, int port) {
    struct sockaddr_in addr;
    int rc = ipv4_address(host, port, &addr);
    if (rc != 0) return rc;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0 && errno != EINPROGRESS) {
        int e = errno;
        close(fd);
        return -e;
    }
    return fd;
}

int sl_set_nodelay(int fd) {
    int one = 1;
    return setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) == 0 ? 0 : -errno;
}

int sl_set_nonblocking(int fd) {
    int flags = fcntl(fd, F_GETFL, 0);
    if (flags < 0) return -errno;
    return fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0 ? 0 : -errno;
}

int sl_peer_address(int fd, char *buf, int buflen) {
    struct sockaddr_in addr;
    socklen_t len = sizeof addr;
    if (getpeername(fd, (struct sockaddr *)&addr, &len) != 0) return -errno;
    char ip[INET_ADDRSTRLEN];
    if (inet_ntop(AF_INET, &addr.sin_addr, ip, sizeof ip) == NULL) return -errno;
    snprintf(buf, (size_t)buflen, "%s:%d", ip, ntohs(addr.sin_port));
    return 0;
}

int sl_limit_malloc_arenas(int arenas) { return mallopt(M_ARENA_MAX, arenas); }
int sl_malloc_trim(void) { return malloc_trim(0); }

int sl_timerfd_create(void) {
    int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

int sl_timerfd_arm(int fd, uint64_t nanoseconds) {
    if (nanoseconds == 0) nanoseconds = 1;
    struct itimerspec spec = {0};
    spec.it_value.tv_sec = (time_t)(nanoseconds / 1000000000u);
    spec.it_value.tv_nsec = (long)(nanoseconds % 1000000000u);
    return timerfd_settime(fd, 0, &spec, NULL) == 0 ? 0 : -errno;
}

uint64_t sl_timerfd_clear(int fd) {
    uint64_t expirations = 0;
    return read(fd, &expirations, sizeof expirations) == (ssize_t)sizeof expirations ? expirations : 0;
}

uint32_t sl_epollin(void) { return EPOLLIN; }
uint32_t sl_epollout(void) { return EPOLLOUT; }
uint32_t sl_epollrdhup(void) { return EPOLLRDHUP; }
uint32_t sl_epollhup(void) { return EPOLLHUP; }
uint32_t sl_epollerr(void) { return EPOLLERR; }
uint32_t sl_epollet(void) { return EPOLLET; }

int sl_getrandom(void *buf, size_t len) {
    uint8_t *bytes = buf;
    size_t done = 0;
    while (done < len) {
        ssize_t n = getrandom(bytes + done, len - done, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            return -errno;
        }
        done += (size_t)n;
    }
    return 0;
}
