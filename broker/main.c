/* main.c: hone-broker's command line and signal set-up; everything else is broker.c. */
#define _GNU_SOURCE
#include "broker.h"
#include "log.h"

#include <czmq.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

static void s_usage(FILE *out)
{
    fprintf(out,
            "usage: hone-broker [--data DIR] [--bind ENDPOINT] [--keys DIR] [--commit MODE]\n"
            "                   [--log-level LEVEL] [--help]\n"
            "\n"
            "Serves hone experiments to workers and clients over ZeroMQ, keeping their state in\n"
            "an LMDB store.\n"
            "\n"
            "  --data DIR         store directory, created if missing (default %s)\n"
            "  --bind ENDPOINT    ZeroMQ endpoint to listen on (default %s, this host only;\n"
            "                     tcp://*:5555 accepts other hosts, ipc://PATH local sockets)\n"
            "  --keys DIR         encrypt with CURVE and let in only the keys of DIR/clients:\n"
            "                     DIR/broker.key_secret is the broker's key pair, each DIR/clients/*.key\n"
            "                     a peer's public key with role worker (worker requests only) or\n"
            "                     client (every request). 'hone keygen --broker DIR' makes DIR,\n"
            "                     'hone keygen NAME --role worker|client' a peer's pair.\n"
            "                     Without --keys there is no authentication: keep the default\n"
            "                     loopback endpoint, or a trusted network.\n"
            "  --commit MODE      group (default): the changes that arrive together share one\n"
            "                     synchronous LMDB commit, and their replies wait for it;\n"
            "                     per-message: one synchronous commit per change (slower; for\n"
            "                     comparison). Either way a reply that acknowledges a change\n"
            "                     is sent only once the change is on disk.\n"
            "  --log-level LEVEL  error, warn, info or debug (default info); logs go to stderr\n"
            "  --help             show this help and exit\n"
            "\n"
            "SIGINT or SIGTERM stops the broker cleanly.\n",
            HONE_BROKER_DATA_DEFAULT, HONE_BROKER_BIND_DEFAULT);
}

/* The write end of the self-pipe that turns SIGINT/SIGTERM into a readable descriptor for
 * the reactor. A handler can reach nothing else, hence this one process-wide variable.
 * (Blocking the signals and using signalfd does not work: OpenBLAS starts its threads in
 * a library constructor, before main could block anything, and a signal delivered to one
 * of them would kill the process.) */
static int s_stop_pipe = -1;

static void s_on_stop_signal(int signo)
{
    int saved = errno;
    unsigned char byte = (unsigned char) signo;
    if (write(s_stop_pipe, &byte, 1) < 0) {
        /* the pipe is full: a stop is already pending */
    }
    errno = saved;
}

static int s_watch_stop_signals(void)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0)
        return -1;
    s_stop_pipe = fds[1];
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = s_on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    return fds[0];
}

int main(int argc, char **argv)
{
    static const struct option long_options[] = {
        { "data", required_argument, NULL, 'd' },
        { "bind", required_argument, NULL, 'b' },
        { "keys", required_argument, NULL, 'k' },
        { "log-level", required_argument, NULL, 'l' },
        { "commit", required_argument, NULL, 'c' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    hone_broker_options_t options = { 0 };
    hone_log_level_t level = HONE_LOG_INFO;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":h", long_options, NULL)) != -1) {
        switch (c) {
        case 'd': options.data_dir = optarg; break;
        case 'b': options.endpoint = optarg; break;
        case 'k': options.keys_dir = optarg; break;
        case 'c':
            if (strcmp(optarg, "group") == 0) {
                options.commit = HONE_BROKER_COMMIT_GROUP;
            } else if (strcmp(optarg, "per-message") == 0) {
                options.commit = HONE_BROKER_COMMIT_EACH;
            } else {
                fprintf(stderr, "hone-broker: --commit must be group or per-message, not '%s'\n", optarg);
                return 2;
            }
            break;
        case 'l':
            if (hone_log_level_parse(optarg, &level) != HONE_OK) {
                fprintf(stderr, "hone-broker: --log-level must be error, warn, info or debug, not '%s'\n",
                        optarg);
                return 2;
            }
            break;
        case 'h':
            s_usage(stdout);
            return 0;
        case ':':
            fprintf(stderr, "hone-broker: option '%s' needs a value (see --help)\n", argv[optind - 1]);
            return 2;
        default:
            fprintf(stderr, "hone-broker: unknown option '%s' (see --help)\n", argv[optind - 1]);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "hone-broker: unexpected argument '%s' (see --help)\n", argv[optind]);
        return 2;
    }
    if ((options.data_dir && !*options.data_dir) || (options.endpoint && !*options.endpoint)
        || (options.keys_dir && !*options.keys_dir)) {
        fprintf(stderr, "hone-broker: --data, --bind and --keys must not be empty\n");
        return 2;
    }
    hone_log_set_level(level);

    zsys_handler_set(NULL);     /* signals come through stop_fd, not czmq's handler; first,
                                 * since this call restores the default dispositions */
    int stop_fd = s_watch_stop_signals();
    if (stop_fd < 0) {
        fprintf(stderr, "hone-broker: cannot watch signals: %s\n", strerror(errno));
        return 1;
    }
    options.stop_fd = stop_fd;

    hone_error_t err;
    hone_error_clear(&err);
    hone_broker_t *broker = NULL;
    if (hone_broker_open(&broker, &options, &err) != HONE_OK) {
        fprintf(stderr, "hone-broker: %s\n", err.message);
        close(stop_fd);
        return 1;
    }
    int rc = hone_broker_run(broker, &err);
    unsigned char signo = 0;
    if (read(stop_fd, &signo, 1) == 1)
        hone_log_info("main", "received %s", strsignal(signo));
    hone_broker_destroy(&broker);
    close(stop_fd);
    zsys_shutdown();            /* waits up to the linger for queued replies */
    if (rc != HONE_OK) {
        fprintf(stderr, "hone-broker: %s\n", err.message);
        return 1;
    }
    hone_log_info("main", "stopped");
    return 0;
}
