/* msg_types.h: every message of the protocol, defined once (proto/PROTOCOL.md §4).
 *
 * XX(ID, "wire name", direction)  direction: W2B worker→broker, C2B client→broker,
 * B2P broker→peer, ANY either way. The wire name is what travels in the header. */
#ifndef HONE_MSG_TYPES_H
#define HONE_MSG_TYPES_H

#define HONE_MSG_MAP(XX)                          \
    /* worker role */                             \
    XX(READY,        "ready",        W2B)         \
    XX(TRIAL,        "trial",        B2P)         \
    XX(NO_WORK,      "no_work",      B2P)         \
    XX(PROGRESS,     "progress",     W2B)         \
    XX(COMPLETE,     "complete",     W2B)         \
    XX(FAIL,         "fail",         W2B)         \
    XX(HEARTBEAT,    "heartbeat",    ANY)         \
    /* client role */                             \
    XX(CREATE,       "create",       C2B)         \
    XX(NEXT,         "next",         C2B)         \
    XX(ATTACH,       "attach",       C2B)         \
    XX(MARK,         "mark",         C2B)         \
    XX(BEST,         "best",         C2B)         \
    XX(STATUS,       "status",       C2B)         \
    XX(LIST,         "list",         C2B)         \
    XX(PREDICT,      "predict",      C2B)         \
    XX(SHOULD_STOP,  "should_stop",  C2B)         \
    XX(PARETO,       "pareto",       C2B)         \
    XX(ATTACH_BASELINE, "attach_baseline", C2B)   \
    /* replies */                                 \
    XX(OK,           "ok",           B2P)         \
    XX(ERROR,        "error",        B2P)

typedef enum {
    HONE_MSG_INVALID = 0,
#define XX(id, name, dir) HONE_MSG_##id,
    HONE_MSG_MAP(XX)
#undef XX
    HONE_MSG_COUNT
} hone_msg_id_t;

#endif
