/* main.c: hone-broker's command line and signal set-up; everything else is broker.c. */
#include "broker.h"
#include "log.h"

#include <czmq.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

static void s_usage(FILE *out)
{
    fprintf(out,
            "usage: hone-broker [--data DIR] [--bind ENDPOINT] [--log-level LEVEL] [--help]\n"
            "\n"
            "Serves hone experiments to workers and clients over ZeroMQ, keeping their state in\n"
            "an LMDB store.\n"
            "\n"
            "  --data DIR         store directory, created if missing (default %s)\n"
            "  --bind ENDPOINT    ZeroMQ endpoint to listen on (default %s, this host only;\n"
            "                     tcp://*:5555 accepts other hosts, ipc://PATH local sockets)\n"
            "  --log-level LEVEL  error, warn, info or debug (default info); logs go to stderr\n"
            "  --help             show this help and exit\n"
            "\n"
            "SIGINT or SIGTERM stops the broker cleanly.\n",
            HONE_BROKER_DATA_DEFAULT, HONE_BROKER_BIND_DEFAULT);
}

int main(int argc, char **argv)
{
    /* Block the stop signals before any thread exists (libzmq's I/O threads inherit the
     * mask) and receive them through a descriptor the reactor watches. */
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    sigprocmask(SIG_BLOCK, &stop_signals, NULL);

    static const struct option long_options[] = {
        { "data", required_argument, NULL, 'd' },
        { "bind", required_argument, NULL, 'b' },
        { "log-level", required_argument, NULL, 'l' },
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
    if ((options.data_dir && !*options.data_dir) || (options.endpoint && !*options.endpoint)) {
        fprintf(stderr, "hone-broker: --data and --bind must not be empty\n");
        return 2;
    }
    hone_log_set_level(level);

    int stop_fd = signalfd(-1, &stop_signals, SFD_CLOEXEC | SFD_NONBLOCK);
    if (stop_fd < 0) {
        fprintf(stderr, "hone-broker: cannot watch signals: %s\n", strerror(errno));
        return 1;
    }
    options.stop_fd = stop_fd;
    zsys_handler_set(NULL);     /* signals come through stop_fd, not czmq's handler */

    hone_error_t err;
    hone_error_clear(&err);
    hone_broker_t *broker = NULL;
    if (hone_broker_open(&broker, &options, &err) != HONE_OK) {
        fprintf(stderr, "hone-broker: %s\n", err.message);
        close(stop_fd);
        return 1;
    }
    int rc = hone_broker_run(broker, &err);
    struct signalfd_siginfo info;
    if (read(stop_fd, &info, sizeof info) == (ssize_t) sizeof info)
        hone_log_info("main", "received %s", strsignal((int) info.ssi_signo));
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
