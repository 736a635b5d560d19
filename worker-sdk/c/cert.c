/* cert.c: zcert text files without czmq (see cert.h). */
#include "cert.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#define S_FILE_MAX (64u << 10)

static bool s_meta_ok(const char *value)
{
    size_t n = strlen(value);
    if (n == 0 || n >= HONE_CERT_META_MAX)
        return false;
    for (const char *p = value; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '.'
              || *p == '_' || *p == '-'))
            return false;
    return true;
}

/* A valid Z85 key of 40 characters (not the all-zero key czmq writes for "none"). */
static bool s_key_ok(const char *z85)
{
    uint8_t raw[32];
    return strlen(z85) == HONE_CERT_KEY_LEN && strspn(z85, "0") != HONE_CERT_KEY_LEN
           && zmq_z85_decode(raw, z85) != NULL;
}

int hone_cert_new(hone_cert_t *out, const char *role, const char *name, hone_error_t *err)
{
    memset(out, 0, sizeof *out);
    if ((role && !s_meta_ok(role)) || (name && !s_meta_ok(name)))
        return hone_error_set(err, HONE_EINVAL, "a role or name must be 1 to %d characters of [A-Za-z0-9._-]",
                              HONE_CERT_META_MAX - 1);
    if (!zmq_has("curve") || zmq_curve_keypair(out->public_key, out->secret_key) != 0)
        return hone_error_set(err, HONE_EUNSUPPORTED, "this libzmq was built without CURVE security");
    if (role)
        snprintf(out->role, sizeof out->role, "%s", role);
    if (name)
        snprintf(out->name, sizeof out->name, "%s", name);
    return HONE_OK;
}

/* ---- reading ---- */

static bool s_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

/* Copies value into buf (size bytes); false when it does not fit. */
static bool s_copy(char *buf, size_t size, const char *value, size_t len)
{
    if (len >= size)
        return false;
    memcpy(buf, value, len);
    buf[len] = '\0';
    return true;
}

/* Parses the ZPL subset a certificate uses: a section name at column 0, then indented
 * "name = value" lines (value bare or quoted with " or '), '#' comments, blank lines.
 * Deeper levels and unknown names are ignored, as zcert_load ignores them. */
static int s_parse(const char *text, const char *path, hone_cert_t *out, hone_error_t *err)
{
    char section[32] = "";
    int lineno = 0;
    for (const char *line = text; *line;) {
        const char *end = strchr(line, '\n');
        if (!end)
            end = line + strlen(line);
        const char *next = *end ? end + 1 : end;
        lineno++;
        size_t indent = 0;
        const char *p = line;
        while (p < end && s_space(*p) && *p != '\r') {
            indent += *p == '\t' ? 4 : 1;
            p++;
        }
        if (p == end || *p == '#' || *p == '\r') {
            line = next;
            continue;
        }
        const char *name = p;
        while (p < end && !s_space(*p) && *p != '=' && *p != '#')
            p++;
        size_t name_len = (size_t) (p - name);
        while (p < end && s_space(*p))
            p++;
        const char *value = NULL;
        size_t value_len = 0;
        if (p < end && *p == '=') {
            p++;
            while (p < end && s_space(*p))
                p++;
            if (p < end && (*p == '"' || *p == '\'')) {
                char quote = *p++;
                value = p;
                while (p < end && *p != quote)
                    p++;
                if (p == end)
                    return hone_error_set(err, HONE_EINVAL, "%s:%d: unterminated quoted value", path, lineno);
                value_len = (size_t) (p - value);
            } else {
                value = p;
                while (p < end && !s_space(*p) && *p != '#')
                    p++;
                value_len = (size_t) (p - value);
            }
        }
        if (indent == 0) {
            if (!s_copy(section, sizeof section, name, name_len))
                section[0] = '\0';
        } else if (indent == 4 && value) {
            char key[32];
            bool bad = false;
            if (!s_copy(key, sizeof key, name, name_len)) {
                /* not a name a certificate uses */
            } else if (streq(section, "curve") && streq(key, "public-key")) {
                bad = !s_copy(out->public_key, sizeof out->public_key, value, value_len);
            } else if (streq(section, "curve") && streq(key, "secret-key")) {
                bad = !s_copy(out->secret_key, sizeof out->secret_key, value, value_len);
            } else if (streq(section, "metadata") && streq(key, "role")) {
                bad = !s_copy(out->role, sizeof out->role, value, value_len);
            } else if (streq(section, "metadata") && streq(key, "name")) {
                bad = !s_copy(out->name, sizeof out->name, value, value_len);
            }
            if (bad)
                return hone_error_set(err, HONE_EINVAL, "%s:%d: the value of %s/%s is too long", path, lineno,
                                      section, key);
        }
        line = next;
    }
    return HONE_OK;
}

static int s_read_file(const char *path, char **text_out, hone_error_t *err)
{
    *text_out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return hone_error_set(err, HONE_EIO, "cannot read %s: %s", path, strerror(errno));
    char *text = malloc(S_FILE_MAX + 1);
    if (!text) {
        fclose(f);
        return hone_error_set(err, HONE_ENOMEM, "out of memory");
    }
    size_t n = fread(text, 1, S_FILE_MAX + 1, f);
    bool failed = ferror(f);
    fclose(f);
    if (failed) {
        free(text);
        return hone_error_set(err, HONE_EIO, "cannot read %s", path);
    }
    if (n > S_FILE_MAX) {
        free(text);
        return hone_error_set(err, HONE_EINVAL, "%s is not a certificate: larger than %u bytes", path, S_FILE_MAX);
    }
    if (memchr(text, '\0', n)) {
        free(text);
        return hone_error_set(err, HONE_EINVAL, "%s is not a certificate: it holds binary data", path);
    }
    text[n] = '\0';
    *text_out = text;
    return HONE_OK;
}

static int s_load_one(const char *path, hone_cert_t *out, hone_error_t *err)
{
    memset(out, 0, sizeof *out);
    char *text = NULL;
    int rc = s_read_file(path, &text, err);
    if (rc == HONE_OK)
        rc = s_parse(text, path, out, err);
    free(text);
    if (rc != HONE_OK)
        return rc;
    if (!out->public_key[0])
        return hone_error_set(err, HONE_EINVAL, "%s is not a CURVE certificate: no curve/public-key", path);
    if (!s_key_ok(out->public_key))
        return hone_error_set(err, HONE_EINVAL, "%s: curve/public-key is not a key (40 Z85 characters)", path);
    if (out->secret_key[0] && strspn(out->secret_key, "0") == strlen(out->secret_key))
        out->secret_key[0] = '\0';      /* czmq writes zeros for "no secret key" */
    if (out->secret_key[0]) {
        char derived[HONE_CERT_KEY_LEN + 1];
        if (!s_key_ok(out->secret_key))
            return hone_error_set(err, HONE_EINVAL, "%s: curve/secret-key is not a key (40 Z85 characters)", path);
        if (zmq_curve_public(derived, out->secret_key) != 0)
            return hone_error_set(err, HONE_EUNSUPPORTED, "this libzmq was built without CURVE security");
        if (!streq(derived, out->public_key))
            return hone_error_set(err, HONE_EINVAL, "%s: the public key does not belong to the secret key", path);
    }
    return HONE_OK;
}

int hone_cert_load(const char *path, bool want_secret, hone_cert_t *out, hone_error_t *err)
{
    int rc = s_load_one(path, out, err);
    if (rc != HONE_OK || !want_secret || out->secret_key[0])
        return rc;
    size_t n = strlen(path);
    if (n >= 7 && streq(path + n - 7, "_secret"))
        return hone_error_set(err, HONE_EINVAL, "%s holds no secret key", path);
    char *secret_path = malloc(n + 8);
    if (!secret_path)
        return hone_error_set(err, HONE_ENOMEM, "out of memory");
    snprintf(secret_path, n + 8, "%s_secret", path);
    hone_cert_t pair;
    rc = s_load_one(secret_path, &pair, err);
    if (rc == HONE_OK && !pair.secret_key[0])
        rc = hone_error_set(err, HONE_EINVAL, "%s holds no secret key", secret_path);
    else if (rc == HONE_EIO)
        rc = hone_error_set(err, HONE_EINVAL, "%s is a public certificate and %s cannot be read: give the "
                            "secret one (NAME.key_secret)", path, secret_path);
    free(secret_path);
    if (rc == HONE_OK)
        *out = pair;
    return rc;
}

/* ---- writing ---- */

static int s_write(const hone_cert_t *cert, const char *path, bool secret, hone_error_t *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, secret ? 0600 : 0644);
    if (fd < 0)
        return hone_error_set(err, errno == EEXIST ? HONE_EEXIST : HONE_EIO, "cannot create %s: %s%s", path,
                              strerror(errno), errno == EEXIST ? " (remove it first to make a new key)" : "");
    if (secret && fchmod(fd, 0600) != 0) {
        int e = errno;
        close(fd);
        unlink(path);
        return hone_error_set(err, HONE_EIO, "cannot restrict %s to its owner: %s", path, strerror(e));
    }
    FILE *f = fdopen(fd, "w");
    if (!f) {
        int e = errno;
        close(fd);
        unlink(path);
        return hone_error_set(err, HONE_EIO, "cannot write %s: %s", path, strerror(e));
    }
    char when[64];
    time_t now = time(NULL);
    struct tm tm;
    strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", gmtime_r(&now, &tm));
    fprintf(f, "#   ****  Generated on %s by hone keygen  ****\n", when);
    if (secret)
        fputs("#   ZeroMQ CURVE **Secret** Certificate\n"
              "#   DO NOT PROVIDE THIS FILE TO OTHER USERS nor change its permissions.\n",
              f);
    else
        fputs("#   ZeroMQ CURVE Public Certificate\n"
              "#   Exchange securely, or use a secure mechanism to verify the contents\n"
              "#   of this file after exchange.\n",
              f);
    fputs("\nmetadata\n", f);
    if (cert->name[0])
        fprintf(f, "    name = \"%s\"\n", cert->name);
    if (cert->role[0])
        fprintf(f, "    role = \"%s\"\n", cert->role);
    fprintf(f, "curve\n    public-key = \"%s\"\n", cert->public_key);
    if (secret)
        fprintf(f, "    secret-key = \"%s\"\n", cert->secret_key);
    bool failed = fflush(f) != 0 || fsync(fileno(f)) != 0;
    failed = fclose(f) != 0 || failed;
    if (failed) {
        unlink(path);
        return hone_error_set(err, HONE_EIO, "cannot write %s", path);
    }
    return HONE_OK;
}

int hone_cert_save(const hone_cert_t *cert, const char *public_path, const char *secret_path,
                   hone_error_t *err)
{
    if (!s_key_ok(cert->public_key) || (secret_path && !s_key_ok(cert->secret_key)))
        return hone_error_set(err, HONE_EINVAL, "not a key pair");
    struct stat st;
    if (secret_path && stat(secret_path, &st) == 0)     /* say so before writing anything */
        return hone_error_set(err, HONE_EEXIST, "%s exists (remove it first to make a new key)", secret_path);
    int rc = s_write(cert, public_path, false, err);
    if (rc == HONE_OK && secret_path) {
        rc = s_write(cert, secret_path, true, err);
        if (rc != HONE_OK)
            unlink(public_path);
    }
    return rc;
}
