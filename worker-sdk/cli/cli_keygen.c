/* cli_keygen.c: `hone keygen`, which makes CURVE key pairs for a peer or the broker's
 * key directory, in czmq's zcert format. */
#include "err.h"
#include "cert.h"
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* A keygen NAME: what becomes a file name and the certificate's `name`. */
static bool s_key_name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n >= HONE_CERT_META_MAX || name[0] == '.' || name[0] == '-')
        return false;
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '.'
              || *p == '_' || *p == '-'))
            return false;
    return true;
}

/* "dir/name" + suffix in a malloc'd string; NULL when memory runs out. */
static char *s_join(const char *dir, const char *name, const char *suffix)
{
    size_t n = strlen(dir) + strlen(name) + strlen(suffix) + 2;
    char *path = malloc(n);
    if (path)
        snprintf(path, n, "%s/%s%s", dir, name, suffix);
    return path;
}

/* Makes dir (mode) unless it is a directory already. 0, or the exit status. */
static int s_make_dir(const hone_cli_command_t *cmd, const char *dir, mode_t mode)
{
    struct stat st;
    if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
        return 0;
    if (mkdir(dir, mode) != 0) {
        char text[600];
        snprintf(text, sizeof text, "cannot create the directory %s: %s", dir, strerror(errno));
        return hone_cli_error(cmd->name, HONE_EIO, text);
    }
    return 0;
}

int hone_cli_cmd_keygen(const hone_cli_command_t *cmd, const hone_cli_opts_t *o, hone_client_t *c)
{
    (void) c;
    const char *name = o->n_pos > 0 ? o->pos[0] : NULL;
    bool broker = o->keygen_broker != NULL;
    if (broker && (name || o->role || o->dir))
        return hone_cli_usage_error(cmd->name, "%s", "give either --broker DIR or NAME [--role R] [--dir DIR]");
    if (!broker && !name)
        return hone_cli_usage_error(cmd->name, "%s", "missing arguments: expected NAME or --broker DIR");
    if (broker && !*o->keygen_broker)
        return hone_cli_usage_error(cmd->name, "%s", "--broker needs a directory");
    if (name && !s_key_name_ok(name))
        return hone_cli_usage_error(cmd->name, "NAME must be 1 to 63 characters of [A-Za-z0-9._-], not starting "
                             "with '.' or '-', not '%s'", name);
    const char *role = broker ? NULL : o->role ? o->role : "worker";
    if (role && !streq(role, "worker") && !streq(role, "client"))
        return hone_cli_usage_error(cmd->name, "--role must be worker or client, not '%s'", role);
    const char *dir = broker ? o->keygen_broker : o->dir ? o->dir : ".";
    if (!*dir)
        return hone_cli_usage_error(cmd->name, "%s", "--dir must not be empty");

    int status = s_make_dir(cmd, dir, 0700);
    if (status == 0 && broker) {
        char *clients = s_join(dir, "clients", "");
        if (!clients)
            return hone_cli_error(cmd->name, HONE_ENOMEM, NULL);
        status = s_make_dir(cmd, clients, 0755);
        free(clients);
    }
    if (status != 0)
        return status;
    hone_cert_t cert;
    hone_error_t err;
    hone_error_clear(&err);
    int rc = hone_cert_new(&cert, role, broker ? "broker" : name, &err);
    char *public_path = s_join(dir, broker ? "broker" : name, ".key");
    char *secret_path = s_join(dir, broker ? "broker" : name, ".key_secret");
    if (rc == HONE_OK && (!public_path || !secret_path))
        rc = hone_error_set(&err, HONE_ENOMEM, "out of memory");
    if (rc == HONE_OK)
        rc = hone_cert_save(&cert, public_path, secret_path, &err);
    if (rc != HONE_OK) {
        status = hone_cli_error(cmd->name, rc, err.message);
    } else if (o->json) {
        status = hone_cli_print_json(cmd->name, hone_json_line_keygen(public_path, secret_path, cert.public_key, role));
    } else if (broker) {
        printf("wrote %s (the broker's public key: give it to every worker and client) and\n"
               "%s (its secret key, mode 0600)\n"
               "start the broker with: hone-broker --keys %s\n"
               "let a peer in: hone keygen NAME --role worker|client, then copy NAME.key into %s/clients/\n",
               public_path, secret_path, dir, dir);
    } else {
        printf("wrote %s (public key, role %s: copy it into the broker's KEYS/clients/) and\n"
               "%s (secret key, mode 0600: keep it here)\n"
               "use it with: %s --key %s --broker-key KEYS/broker.key\n",
               public_path, role, secret_path, streq(role, "worker") ? "hone-worker" : "hone", secret_path);
    }
    memset(&cert, 0, sizeof cert);
    free(public_path);
    free(secret_path);
    return status;
}
