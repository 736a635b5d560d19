/* cert.h: CURVE certificates in czmq's zcert text format, read and written without czmq
 * (transport.h says why the SDK does not link it). Internal to the SDK and its command
 * line tools.
 *
 * A certificate is a small ZPL text file (ZeroMQ RFC 4):
 *
 *     #   ZeroMQ CURVE **Secret** Certificate
 *     metadata
 *         name = "gpu-07"
 *         role = "worker"
 *     curve
 *         public-key = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7"
 *         secret-key = "JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6"
 *
 * NAME.key holds the public key (and the metadata), NAME.key_secret both keys; czmq's
 * zcert_load and zauth read both, and so does the broker (broker/auth.h). Keys are
 * Z85 text, 40 characters for 32 bytes. Key pairs come from libzmq's
 * zmq_curve_keypair (libsodium or TweetNaCl inside libzmq): no cryptography here. */
#ifndef HONE_SDK_CERT_H
#define HONE_SDK_CERT_H

#include "err.h"

#define HONE_CERT_KEY_LEN 40            /* Z85 characters of a key */
#define HONE_CERT_META_MAX 64           /* bytes of a metadata value, NUL included */

typedef struct hone_cert {
    char public_key[HONE_CERT_KEY_LEN + 1];     /* Z85 */
    char secret_key[HONE_CERT_KEY_LEN + 1];     /* Z85; "" for a public certificate */
    char role[HONE_CERT_META_MAX];              /* metadata `role`; "" when absent */
    char name[HONE_CERT_META_MAX];              /* metadata `name`; "" when absent */
} hone_cert_t;

/* A new key pair with the given metadata (NULL: none; at most HONE_CERT_META_MAX - 1
 * bytes of [A-Za-z0-9._-]). HONE_EUNSUPPORTED when libzmq was built without CURVE,
 * HONE_EINVAL for a bad role or name. */
int hone_cert_new(hone_cert_t *out, const char *role, const char *name, hone_error_t *err);

/* Reads a certificate file. When want_secret and the file has no secret key, reads
 * path + "_secret" instead (as zcert_load does), so NAME.key may name a pair.
 * Checks that the keys are valid Z85 and that a secret key matches its public key.
 * Errors: HONE_EIO (cannot read the file), HONE_EINVAL (not a certificate: over 64 KiB,
 * binary, no or a bad key, no secret key when want_secret; err names the file),
 * HONE_EUNSUPPORTED (libzmq without CURVE), HONE_ENOMEM. */
int hone_cert_load(const char *path, bool want_secret, hone_cert_t *out, hone_error_t *err);

/* Writes public_path (mode 0644: public key and metadata) and, when secret_path is not
 * NULL, secret_path (mode 0600: both keys). Never overwrites: HONE_EEXIST when a file
 * exists; HONE_EIO when one cannot be written (then neither is left behind). */
int hone_cert_save(const hone_cert_t *cert, const char *public_path, const char *secret_path,
                   hone_error_t *err);

#endif
