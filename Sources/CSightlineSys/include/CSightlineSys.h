/* Glibc gaps for Swift: epoll (its struct is packed on x86_64), accept4, eventfd, socket options, getrandom. */
#ifndef CSIGHTLINESYS_H
#define CSIGHTLINESYS_H
#include <stddef.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <sys/socket.h>
#include <netinet/in.h>

/* An unpacked twin of struct epoll_event. */
typedef struct {
    uint32_t events;
    uint64_t token;
} sl_epoll_event;

int sl_epoll_ctl(int epfd, int op, int fd, uint32_t events, uint64_t token);
int sl_epoll_wait(int epfd, sl_epoll_event *out, int max_events, int timeout_ms);
/* accept4 with SOCK_NONBLOCK | SOCK_CLOEXEC. */
int sl_accept4(int listen_fd);
/* A non-blocking, close-on-exec TCP listener bound to host:port (IPv4 dotted or "localhost").
   Returns the fd or -errno. reuse_port sets SO_REUSEPORT so several loops can share the port. */
int sl_listen_tcp(const char *host, int port, int backlog, int reuse_port);
/* 0 when nothing listens on host:port, else -errno (EADDRINUSE): a bind without SO_REUSEPORT, released at
   once. SO_REUSEPORT listeners of another process of the same user would otherwise share the port silently. */
int sl_probe_tcp_port(const char *host, int port);
/* The locally bound port of a socket, or -errno. */
int sl_local_port(int fd);
/* A non-blocking TCP connection to host:port (IPv4); returns fd or -errno; EINPROGRESS is success. */
int sl_connect_tcp(const char *host, int port);
int sl_set_nodelay(int fd);
int sl_set_nonblocking(int fd);
/* The peer address as "a.b.c.d:port" into buf; returns 0 or -errno. */
int sl_peer_address(int fd, char *buf, int buflen);
/* Caps glibc's malloc arenas (M_ARENA_MAX): each thread otherwise gets its own, and RSS stays at its
   peak after load. Returns mallopt's result (1 on success). */
int sl_limit_malloc_arenas(int arenas);
/* Returns freed heap memory to the kernel (malloc_trim(0)). */
int sl_malloc_trim(void);
/* A non-blocking, close-on-exec CLOCK_MONOTONIC timerfd, or -errno. */
int sl_timerfd_create(void);
/* Arms a timerfd to fire once after `nanoseconds` (at least 1: 0 would disarm it). Returns 0 or -errno. */
int sl_timerfd_arm(int fd, uint64_t nanoseconds);
/* Reads (and so clears) a timerfd's expiry count; returns it, or 0 when it had not fired. */
uint64_t sl_timerfd_clear(int fd);
/* EPOLL constants as plain integers (they are enum members in glibc headers). */
uint32_t sl_epollin(void);
uint32_t sl_epollout(void);
uint32_t sl_epollrdhup(void);
uint32_t sl_epollhup(void);
uint32_t sl_epollerr(void);
uint32_t sl_epollet(void);
/* Fills buf with len bytes from the kernel's CSPRNG (getrandom(2), retried on EINTR and short reads).
   Returns 0 or -errno. */
int sl_getrandom(void *buf, size_t len);

#endif
