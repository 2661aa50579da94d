/* The floor: a bare Lambda Runtime API loop in C, answering every event with a fixed 404. */
#define _GNU_SOURCE /* strcasestr */
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

static char buffer[1 << 20];

static int connect_to(const char *api) {
    char host[256];
    const char *colon = strrchr(api, ':');
    snprintf(host, sizeof host, "%.*s", (int)(colon - api), api);
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *address;
    if (getaddrinfo(host, colon + 1, &hints, &address) != 0) return -1;
    int fd = socket(address->ai_family, SOCK_STREAM, 0);
    if (connect(fd, address->ai_addr, address->ai_addrlen) != 0) return -1;
    freeaddrinfo(address);
    return fd;
}

/* Reads one response; returns its body and copies the request id header into `id`. */
static char *read_response(int fd, char *id) {
    size_t length = 0;
    char *end;
    while (!(end = strstr(buffer, "\r\n\r\n"))) {
        ssize_t n = recv(fd, buffer + length, sizeof buffer - 1 - length, 0);
        if (n <= 0) exit(1);
        length += n;
        buffer[length] = 0;
    }
    char *header = strcasestr(buffer, "Lambda-Runtime-Aws-Request-Id: ");
    if (id && header) sscanf(header + 31, "%127[^\r]", id);
    char *content = strcasestr(buffer, "Content-Length: ");
    size_t body = content ? strtoul(content + 16, 0, 10) : 0, have = length - (end + 4 - buffer);
    while (have < body) {
        ssize_t n = recv(fd, buffer + length, sizeof buffer - 1 - length, 0);
        if (n <= 0) exit(1);
        length += n, have += n;
    }
    buffer[length] = 0;
    return end + 4;
}

/* One connection per request: the emulated Runtime API answers HTTP/1.0 and closes. */
int main(void) {
    const char *api = getenv("AWS_LAMBDA_RUNTIME_API");
    int fd;
    const char *answer = "{\"statusCode\":404,\"body\":\"{\\\"title\\\":\\\"Not Found\\\"}\"}";
    char request[512], id[128];
    for (;;) {
        int n = snprintf(request, sizeof request,
                         "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: %s\r\n\r\n", api);
        if ((fd = connect_to(api)) < 0) return 1;
        send(fd, request, n, 0);
        buffer[0] = 0;
        read_response(fd, id);
        n = snprintf(request, sizeof request,
                     "POST /2018-06-01/runtime/invocation/%s/response HTTP/1.1\r\nHost: %s\r\n"
                     "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
                     id, api, strlen(answer), answer);
        close(fd);
        if ((fd = connect_to(api)) < 0) return 1;
        send(fd, request, n, 0);
        buffer[0] = 0;
        read_response(fd, 0);
        close(fd);
    }
}
