/*
 * fleet-c-client: a minimal C client for the fleet wire protocol (Proto/fleet.proto).
 *
 * It connects, answers the server's hello with an HMAC-SHA256 auth, checks the server's
 * counter-MAC, submits one order (SUBMIT_ORDER on stream 1) and prints the result. It only uses
 * the protoc-c generated code in Proto/C, libprotobuf-c and OpenSSL's libcrypto: the point is
 * that the wire format is plain length-prefixed protobuf any implementation can speak.
 *
 * Exit codes: 0 success, 1 network/protocol error, 2 bad arguments or missing FLEET_SECRET,
 * 3 authentication refused, 4 the order request returned a non-OK status code.
 */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "fleet.pb-c.h"

#define EXIT_NET 1
#define EXIT_USAGE 2
#define EXIT_AUTH 3
#define EXIT_STATUS 4

#define MAX_FRAME (4u * 1024u * 1024u)
#define NONCE_LEN 32
#define MAC_LEN 32
#define REQUEST_STREAM_ID 1
#define DEADLINE_NS INT64_C(5000000000)
#define IO_TIMEOUT_SEC 30

static const char CLIENT_LABEL[] = "fleet/v1 client";
static const char SERVER_LABEL[] = "fleet/v1 server";

#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0
#endif

/* ------------------------------------------------------------------ errors */

static void fail_net(const char *what) {
    fprintf(stderr, "fleet-c-client: %s\n", what);
    exit(EXIT_NET);
}

static void fail_errno(const char *what) {
    fprintf(stderr, "fleet-c-client: %s: %s\n", what, strerror(errno));
    exit(EXIT_NET);
}

static void usage(FILE *out) {
    fprintf(out,
            "usage: fleet-c-client --port P --client-order-id ID --symbol S --side BUY|SELL\n"
            "                      --quantity-e8 N [--type MARKET|LIMIT] [--limit-price-e8 N]\n"
            "                      [--host H] [--client-id ID] [--model M]\n"
            "The fleet secret is read from the FLEET_SECRET environment variable.\n");
}

static void fail_usage(const char *msg) {
    if (msg) fprintf(stderr, "fleet-c-client: %s\n", msg);
    usage(stderr);
    exit(EXIT_USAGE);
}

/* ------------------------------------------------------------------ socket I/O */

static void write_all(int fd, const uint8_t *buf, size_t len) {
    while (len > 0) {
        ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) continue;
            fail_errno("send");
        }
        buf += (size_t)n;
        len -= (size_t)n;
    }
}

static void read_all(int fd, uint8_t *buf, size_t len) {
    while (len > 0) {
        ssize_t n = recv(fd, buf, len, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) fail_net("recv: timed out");
            fail_errno("recv");
        }
        if (n == 0) fail_net("connection closed by server");
        buf += (size_t)n;
        len -= (size_t)n;
    }
}

static void send_frame(int fd, const Fleet__V1__Frame *frame) {
    size_t size = fleet__v1__frame__get_packed_size(frame);
    if (size > MAX_FRAME) fail_net("outgoing frame exceeds 4 MiB");
    uint8_t *buf = malloc(4 + size);
    if (!buf) fail_net("out of memory");
    buf[0] = (uint8_t)(size >> 24);
    buf[1] = (uint8_t)(size >> 16);
    buf[2] = (uint8_t)(size >> 8);
    buf[3] = (uint8_t)size;
    if (fleet__v1__frame__pack(frame, buf + 4) != size) {
        free(buf);
        fail_net("frame pack size mismatch");
    }
    write_all(fd, buf, 4 + size);
    free(buf);
}

/* Returns a frame to be released with fleet__v1__frame__free_unpacked. */
static Fleet__V1__Frame *recv_frame(int fd) {
    uint8_t hdr[4];
    read_all(fd, hdr, sizeof hdr);
    uint32_t len = ((uint32_t)hdr[0] << 24) | ((uint32_t)hdr[1] << 16) | ((uint32_t)hdr[2] << 8) |
                   (uint32_t)hdr[3];
    if (len > MAX_FRAME) {
        fprintf(stderr, "fleet-c-client: incoming frame of %" PRIu32 " bytes exceeds 4 MiB\n", len);
        exit(EXIT_NET);
    }
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf) fail_net("out of memory");
    read_all(fd, buf, len);
    Fleet__V1__Frame *frame = fleet__v1__frame__unpack(NULL, len, buf);
    free(buf);
    if (!frame) fail_net("malformed Frame from server");
    return frame;
}

static int connect_to(const char *host, const char *port) {
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    struct addrinfo *res = NULL;
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0) {
        fprintf(stderr, "fleet-c-client: resolve %s:%s: %s\n", host, port, gai_strerror(rc));
        exit(EXIT_NET);
    }
    int fd = -1;
    int saved = 0;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd < 0) {
            saved = errno;
            continue;
        }
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) break;
        saved = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) {
        fprintf(stderr, "fleet-c-client: connect %s:%s: %s\n", host, port, strerror(saved));
        exit(EXIT_NET);
    }
    int one = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct timeval tv = {.tv_sec = IO_TIMEOUT_SEC, .tv_usec = 0};
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    (void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    return fd;
}

/* ------------------------------------------------------------------ crypto */

/* HMAC-SHA256(secret, label || a || b || tail). */
static void fleet_mac(const uint8_t *secret, size_t secret_len, const char *label,
                      const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len,
                      const char *tail, uint8_t out[MAC_LEN]) {
    size_t label_len = strlen(label);
    size_t tail_len = strlen(tail);
    size_t total = label_len + a_len + b_len + tail_len;
    uint8_t *msg = malloc(total ? total : 1);
    if (!msg) fail_net("out of memory");
    size_t off = 0;
    memcpy(msg + off, label, label_len);
    off += label_len;
    if (a_len) memcpy(msg + off, a, a_len);
    off += a_len;
    if (b_len) memcpy(msg + off, b, b_len);
    off += b_len;
    memcpy(msg + off, tail, tail_len);

    unsigned int out_len = 0;
    if (secret_len > INT_MAX) fail_net("secret too long");
    if (!HMAC(EVP_sha256(), secret, (int)secret_len, msg, total, out, &out_len) ||
        out_len != MAC_LEN) {
        free(msg);
        fail_net("HMAC-SHA256 failed");
    }
    OPENSSL_cleanse(msg, total);
    free(msg);
}

/* ------------------------------------------------------------------ args */

static int64_t parse_i64(const char *opt, const char *s) {
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0') {
        fprintf(stderr, "fleet-c-client: %s: not a 64-bit integer: '%s'\n", opt, s);
        usage(stderr);
        exit(EXIT_USAGE);
    }
    return (int64_t)v;
}

struct options {
    const char *host;
    const char *port;
    const char *client_id;
    const char *client_order_id;
    const char *symbol;
    Fleet__V1__Side side;
    int have_quantity;
    int64_t quantity_e8;
    Fleet__V1__OrderType type;
    int have_limit_price;
    int64_t limit_price_e8;
    const char *model;
};

static void parse_args(int argc, char **argv, struct options *o) {
    enum {
        OPT_HOST = 1000, OPT_PORT, OPT_CLIENT_ID, OPT_CLIENT_ORDER_ID, OPT_SYMBOL, OPT_SIDE,
        OPT_QUANTITY, OPT_TYPE, OPT_LIMIT_PRICE, OPT_MODEL
    };
    static const struct option longopts[] = {
        {"host", required_argument, NULL, OPT_HOST},
        {"port", required_argument, NULL, OPT_PORT},
        {"client-id", required_argument, NULL, OPT_CLIENT_ID},
        {"client-order-id", required_argument, NULL, OPT_CLIENT_ORDER_ID},
        {"symbol", required_argument, NULL, OPT_SYMBOL},
        {"side", required_argument, NULL, OPT_SIDE},
        {"quantity-e8", required_argument, NULL, OPT_QUANTITY},
        {"type", required_argument, NULL, OPT_TYPE},
        {"limit-price-e8", required_argument, NULL, OPT_LIMIT_PRICE},
        {"model", required_argument, NULL, OPT_MODEL},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };

    memset(o, 0, sizeof *o);
    o->host = "127.0.0.1";
    o->client_id = "c-client";
    o->model = "c-model";
    o->side = FLEET__V1__SIDE__SIDE_UNSPECIFIED;
    o->type = FLEET__V1__ORDER_TYPE__MARKET;

    int c;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_HOST: o->host = optarg; break;
        case OPT_PORT: {
            int64_t p = parse_i64("--port", optarg);
            if (p < 1 || p > 65535) fail_usage("--port must be 1..65535");
            o->port = optarg;
            break;
        }
        case OPT_CLIENT_ID: o->client_id = optarg; break;
        case OPT_CLIENT_ORDER_ID: o->client_order_id = optarg; break;
        case OPT_SYMBOL: o->symbol = optarg; break;
        case OPT_SIDE:
            if (strcmp(optarg, "BUY") == 0) o->side = FLEET__V1__SIDE__BUY;
            else if (strcmp(optarg, "SELL") == 0) o->side = FLEET__V1__SIDE__SELL;
            else fail_usage("--side must be BUY or SELL");
            break;
        case OPT_QUANTITY:
            o->quantity_e8 = parse_i64("--quantity-e8", optarg);
            o->have_quantity = 1;
            break;
        case OPT_TYPE:
            if (strcmp(optarg, "MARKET") == 0) o->type = FLEET__V1__ORDER_TYPE__MARKET;
            else if (strcmp(optarg, "LIMIT") == 0) o->type = FLEET__V1__ORDER_TYPE__LIMIT;
            else fail_usage("--type must be MARKET or LIMIT");
            break;
        case OPT_LIMIT_PRICE:
            o->limit_price_e8 = parse_i64("--limit-price-e8", optarg);
            o->have_limit_price = 1;
            break;
        case OPT_MODEL: o->model = optarg; break;
        case 'h': usage(stdout); exit(0);
        default: fail_usage(NULL);
        }
    }
    if (optind < argc) fail_usage("unexpected positional argument");
    if (!o->port) fail_usage("--port is required");
    if (!o->client_order_id || !*o->client_order_id) fail_usage("--client-order-id is required");
    if (!o->symbol || !*o->symbol) fail_usage("--symbol is required");
    if (o->side == FLEET__V1__SIDE__SIDE_UNSPECIFIED) fail_usage("--side is required");
    if (!o->have_quantity) fail_usage("--quantity-e8 is required");
    if (o->type == FLEET__V1__ORDER_TYPE__LIMIT && !o->have_limit_price)
        fail_usage("--limit-price-e8 is required with --type LIMIT");
    if (!*o->client_id) fail_usage("--client-id must not be empty");
}

/* ------------------------------------------------------------------ protocol */

static void send_pong(int fd, uint64_t stream_id, const Fleet__V1__Ping *ping) {
    Fleet__V1__Pong pong = FLEET__V1__PONG__INIT;
    if (ping) pong.payload = ping->payload;
    Fleet__V1__Frame out = FLEET__V1__FRAME__INIT;
    out.stream_id = stream_id;
    out.kind_case = FLEET__V1__FRAME__KIND_PONG;
    out.pong = &pong;
    send_frame(fd, &out);
}

/*
 * Reads frames, answering pings and skipping events/pongs, until one that is neither.
 * A goaway that excludes our request stream is fatal.
 */
static Fleet__V1__Frame *recv_significant(int fd) {
    for (;;) {
        Fleet__V1__Frame *f = recv_frame(fd);
        switch (f->kind_case) {
        case FLEET__V1__FRAME__KIND_PING:
            send_pong(fd, f->stream_id, f->ping);
            break;
        case FLEET__V1__FRAME__KIND_PONG:
        case FLEET__V1__FRAME__KIND_EVENT:
            break;
        case FLEET__V1__FRAME__KIND_GOAWAY:
            if (f->goaway && f->goaway->last_stream_id >= REQUEST_STREAM_ID) break;
            fprintf(stderr, "fleet-c-client: server sent goaway (code %d): %s\n",
                    f->goaway ? (int)f->goaway->code : -1,
                    f->goaway && f->goaway->reason ? f->goaway->reason : "");
            fleet__v1__frame__free_unpacked(f, NULL);
            exit(EXIT_NET);
        default:
            return f;
        }
        fleet__v1__frame__free_unpacked(f, NULL);
    }
}

static const char *order_status_name(Fleet__V1__OrderStatus s) {
    const ProtobufCEnumValue *v =
        protobuf_c_enum_descriptor_get_value(&fleet__v1__order_status__descriptor, (int)s);
    return v ? v->name : NULL;
}

static const char *str_or_empty(const char *s) { return s ? s : ""; }

int main(int argc, char **argv) {
    struct options opt;
    parse_args(argc, argv, &opt);

    const char *secret = getenv("FLEET_SECRET");
    if (!secret || !*secret) {
        fprintf(stderr, "fleet-c-client: FLEET_SECRET is not set\n");
        return EXIT_USAGE;
    }
    const uint8_t *secret_bytes = (const uint8_t *)secret;
    size_t secret_len = strlen(secret);

    signal(SIGPIPE, SIG_IGN);
    int fd = connect_to(opt.host, opt.port);

    /* 1. hello */
    Fleet__V1__Frame *hello_frame = recv_frame(fd);
    if (hello_frame->kind_case != FLEET__V1__FRAME__KIND_HELLO || hello_frame->stream_id != 0 ||
        !hello_frame->hello)
        fail_net("protocol error: expected hello on stream 0 as the first frame");
    const Fleet__V1__Hello *hello = hello_frame->hello;
    if (hello->protocol_version != 1) {
        fprintf(stderr, "fleet-c-client: unsupported protocol_version %" PRIu32 "\n",
                hello->protocol_version);
        return EXIT_NET;
    }
    if (hello->server_nonce.len != NONCE_LEN)
        fail_net("protocol error: server_nonce is not 32 bytes");
    uint8_t server_nonce[NONCE_LEN];
    memcpy(server_nonce, hello->server_nonce.data, NONCE_LEN);
    char *server_id = strdup(str_or_empty(hello->server_id));
    if (!server_id) fail_net("out of memory");
    fleet__v1__frame__free_unpacked(hello_frame, NULL);

    /* 2. auth */
    uint8_t client_nonce[NONCE_LEN];
    if (RAND_bytes(client_nonce, NONCE_LEN) != 1) fail_net("RAND_bytes failed");
    uint8_t client_mac[MAC_LEN];
    fleet_mac(secret_bytes, secret_len, CLIENT_LABEL, server_nonce, NONCE_LEN, client_nonce,
              NONCE_LEN, opt.client_id, client_mac);
    {
        Fleet__V1__AuthRequest auth = FLEET__V1__AUTH_REQUEST__INIT;
        auth.client_id = (char *)opt.client_id;
        auth.client_nonce.data = client_nonce;
        auth.client_nonce.len = NONCE_LEN;
        auth.mac.data = client_mac;
        auth.mac.len = MAC_LEN;
        Fleet__V1__Frame out = FLEET__V1__FRAME__INIT;
        out.stream_id = 0;
        out.kind_case = FLEET__V1__FRAME__KIND_AUTH;
        out.auth = &auth;
        send_frame(fd, &out);
    }

    /* 3. auth_result */
    Fleet__V1__Frame *ar_frame = recv_significant(fd);
    if (ar_frame->kind_case != FLEET__V1__FRAME__KIND_AUTH_RESULT || ar_frame->stream_id != 0 ||
        !ar_frame->auth_result)
        fail_net("protocol error: expected auth_result on stream 0");
    const Fleet__V1__AuthResult *ar = ar_frame->auth_result;
    if (ar->code != FLEET__V1__STATUS_CODE__OK) {
        if (ar->code == FLEET__V1__STATUS_CODE__UNAUTHENTICATED)
            printf("code=UNAUTHENTICATED message=%s\n", str_or_empty(ar->message));
        else
            printf("code=%d message=%s\n", (int)ar->code, str_or_empty(ar->message));
        fflush(stdout);
        fleet__v1__frame__free_unpacked(ar_frame, NULL);
        free(server_id);
        close(fd);
        return EXIT_AUTH;
    }
    uint8_t expected_mac[MAC_LEN];
    fleet_mac(secret_bytes, secret_len, SERVER_LABEL, client_nonce, NONCE_LEN, server_nonce,
              NONCE_LEN, server_id, expected_mac);
    if (ar->mac.len != MAC_LEN || CRYPTO_memcmp(ar->mac.data, expected_mac, MAC_LEN) != 0)
        fail_net("server authentication failed: auth_result mac does not match");
    fleet__v1__frame__free_unpacked(ar_frame, NULL);
    free(server_id);

    /* 4. request */
    {
        Fleet__V1__SubmitOrderRequest sub = FLEET__V1__SUBMIT_ORDER_REQUEST__INIT;
        sub.client_order_id = (char *)opt.client_order_id;
        sub.symbol = (char *)opt.symbol;
        sub.side = opt.side;
        sub.type = opt.type;
        sub.quantity_e8 = opt.quantity_e8;
        sub.limit_price_e8 = opt.limit_price_e8;
        sub.model = (char *)opt.model;

        size_t sub_len = fleet__v1__submit_order_request__get_packed_size(&sub);
        uint8_t *sub_buf = malloc(sub_len ? sub_len : 1);
        if (!sub_buf) fail_net("out of memory");
        fleet__v1__submit_order_request__pack(&sub, sub_buf);

        struct timespec now;
        if (clock_gettime(CLOCK_REALTIME, &now) != 0) fail_errno("clock_gettime");
        int64_t now_ns = (int64_t)now.tv_sec * INT64_C(1000000000) + (int64_t)now.tv_nsec;

        Fleet__V1__Request req = FLEET__V1__REQUEST__INIT;
        req.method = FLEET__V1__METHOD__SUBMIT_ORDER;
        req.deadline_unix_ns = now_ns + DEADLINE_NS;
        req.payload.data = sub_buf;
        req.payload.len = sub_len;
        Fleet__V1__Frame out = FLEET__V1__FRAME__INIT;
        out.stream_id = REQUEST_STREAM_ID;
        out.kind_case = FLEET__V1__FRAME__KIND_REQUEST;
        out.request = &req;
        send_frame(fd, &out);
        free(sub_buf);
    }

    /* 5. response on stream 1 */
    Fleet__V1__Frame *resp_frame = NULL;
    for (;;) {
        resp_frame = recv_significant(fd);
        if (resp_frame->kind_case == FLEET__V1__FRAME__KIND_RESPONSE &&
            resp_frame->stream_id == REQUEST_STREAM_ID && resp_frame->response)
            break;
        fleet__v1__frame__free_unpacked(resp_frame, NULL); /* not ours: ignore */
    }
    close(fd);

    const Fleet__V1__Response *resp = resp_frame->response;
    if (resp->code != FLEET__V1__STATUS_CODE__OK) {
        printf("code=%d message=%s\n", (int)resp->code, str_or_empty(resp->message));
        fflush(stdout);
        fleet__v1__frame__free_unpacked(resp_frame, NULL);
        return EXIT_STATUS;
    }

    Fleet__V1__SubmitOrderResponse *sor =
        fleet__v1__submit_order_response__unpack(NULL, resp->payload.len, resp->payload.data);
    fleet__v1__frame__free_unpacked(resp_frame, NULL);
    if (!sor) fail_net("protocol error: malformed SubmitOrderResponse payload");
    if (!sor->order) {
        fleet__v1__submit_order_response__free_unpacked(sor, NULL);
        fail_net("protocol error: SubmitOrderResponse without order");
    }
    const Fleet__V1__Order *order = sor->order;
    const char *status = order_status_name(order->status);
    char status_buf[16];
    if (!status) {
        snprintf(status_buf, sizeof status_buf, "%d", (int)order->status);
        status = status_buf;
    }
    printf("code=OK status=%s client_order_id=%s venue_order_id=%s filled_quantity_e8=%" PRId64
           " average_fill_price_e8=%" PRId64 " duplicate=%d\n",
           status, str_or_empty(order->client_order_id), str_or_empty(order->venue_order_id),
           order->filled_quantity_e8, order->average_fill_price_e8, sor->duplicate ? 1 : 0);
    fflush(stdout);
    fleet__v1__submit_order_response__free_unpacked(sor, NULL);
    return 0;
}
