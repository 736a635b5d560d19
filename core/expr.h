/* expr.h: linear expressions over names, the one tokenizer and evaluator behind Ax's
 * parameter_constraints (constraint.c) and its objective, outcome-constraint and threshold
 * strings (goals.c). Internal to core: not installed. Out-of-memory policy: abort.
 *
 * A string is lexed once into tokens (hone_expr_new); the caller then drives the
 * top-level grammar (a comma list, an inequality) with hone_expr_parse, which evaluates
 *   form   := term (("+" | "-") term)*
 *   term   := factor (("*" | "/") factor)*
 *   factor := ("+" | "-") factor | atom [("**" | "^") factor]
 *   atom   := number | name | constant | "(" form ")"
 * to a linear form: one coefficient per distinct name plus a constant, as SymPy would
 * ("a + a" is 2·a, "a - a" is 0, "3*(a + 2)" is 3·a + 6). A product, quotient or power is
 * accepted only when the result stays linear (2*x, x*2, x/4, 2**3*x, x**1, x**0 is 1);
 * x*y, x**2, x/y, 1/x, 2**x are non-linear. '^' is '**' (SymPy's convert_xor); a power
 * binds tighter than a sign on its left, as in Python ("-2**2" is -4).
 *
 * Tokens: decimal numbers ("2", "0.5", ".5", "1e-3", "2.5E+2"; a number run into a name
 * or a second '.' is one bad token, "2x", "1.2.3"), names (the caller's rules, see
 * hone_expr_lang_t), + - * / ** ^ ( ) , <= >= and the other relations < > = == != (one
 * kind, for the caller to refuse). White space separates tokens. Anything else is a bad
 * token, where lexing stops.
 *
 * Errors are not messages: expr reports a kind and the tokens at fault, and each caller
 * words them (Ax's messages differ between the two callers). hone_expr_fail and
 * hone_expr_fail_at give the column style "<field>: at column <c> ('<token>'): <message>".
 *
 * Bounds, so that a hostile string of length L costs O(L) stack and memory and
 * O(L · max_names) time (forms are dense rows over the names):
 *   - nesting (signs, parentheses, powers) stops at HONE_EXPR_MAX_DEPTH with
 *     HONE_EXPR_EDEPTH, so recursion never exhausts the stack;
 *   - forms live on a stack and a finished operand is popped, so at most about three
 *     per nesting level are alive: memory O(depth × names), not O(tokens × names);
 *   - hone_expr_lang_t.max_names caps the distinct names, and with them the work per
 *     operator (O(names)).
 * A hone_expr_t is not thread-safe; distinct ones may be used from any threads. */
#ifndef HONE_EXPR_H
#define HONE_EXPR_H

#include "err.h"

/* Nesting of factors (signs, parentheses, powers); Python's own parser stops near 200. */
#define HONE_EXPR_MAX_DEPTH 100
/* No token, form or position. */
#define HONE_EXPR_NONE ((size_t) -1)

typedef struct _hone_expr_t hone_expr_t;

typedef enum {
    HONE_EXPR_END,        /* end of the text (its start is the text's length) */
    HONE_EXPR_NUM,        /* a number: .num (may be infinite: "1e999" is refused when parsed) */
    HONE_EXPR_NAME,       /* a name: .sym is its index (hone_expr_name) */
    HONE_EXPR_CONST,      /* a word of the language standing for a number: .num, .sym the word */
    HONE_EXPR_RESERVED,   /* a word of the language the caller refuses: .sym the word */
    HONE_EXPR_MANY,       /* a name past max_names; lexing stopped there */
    HONE_EXPR_PLUS, HONE_EXPR_MINUS, HONE_EXPR_STAR, HONE_EXPR_SLASH,
    HONE_EXPR_POW,        /* "**" or "^" */
    HONE_EXPR_LPAR, HONE_EXPR_RPAR, HONE_EXPR_COMMA,
    HONE_EXPR_LE, HONE_EXPR_GE,
    HONE_EXPR_REL,        /* "<", ">", "=", "==", "!=" */
    HONE_EXPR_BAD,        /* anything else; lexing stopped there */
} hone_expr_kind_t;

typedef struct {
    hone_expr_kind_t kind;   /* what it is */
    size_t start, len;       /* its bytes in the text: start is its 0-based column */
    double num;              /* NUM, CONST: its value */
    size_t sym;              /* NAME: name index; CONST, RESERVED: index in lang.words */
} hone_expr_tok_t;

/* A name rule: scans the name starting at s, writes its canonical text into out (room
 * for strlen(s) + 1 bytes; a caller may fold spaces, say) and returns how many bytes of
 * s it takes, 0 when no name starts at s. Names with the same canonical text are the
 * same name. Called only where no number starts. */
typedef size_t (*hone_expr_scan_fn)(const char *s, char *out, void *arg);

/* A word with a meaning of its own, matched against a scanned name's canonical text. */
typedef struct {
    const char *name;        /* "baseline", "oo" */
    hone_expr_kind_t kind;   /* HONE_EXPR_CONST or HONE_EXPR_RESERVED */
    double value;            /* CONST: the number it stands for */
} hone_expr_word_t;

/* What names are in one language. A zeroed struct gives identifiers:
 * [A-Za-z_][A-Za-z0-9_]* with '.' inside when a name character follows ("layer.width"),
 * no words, no limit. */
typedef struct {
    hone_expr_scan_fn scan;          /* the name rule; NULL for identifiers */
    void *arg;                       /* scan's last argument */
    const hone_expr_word_t *words;   /* n_words words, or NULL */
    size_t n_words;
    size_t max_names;                /* distinct names allowed; 0 for no limit */
} hone_expr_lang_t;

/* What went wrong. Syntax problems stop the parse; evaluation problems do not (the
 * first is kept and parsing goes on, so that a later syntax error still wins). */
typedef enum {
    HONE_EXPR_OK = 0,
    HONE_EXPR_ESYNTAX,      /* tok: the token where parsing stopped (maybe END) */
    HONE_EXPR_EDEPTH,       /* tok: the token nested one level too deep */
    HONE_EXPR_ENONLINEAR,   /* tok: the operator; first..last: the term ("a*b") */
    HONE_EXPR_EDIVZERO,     /* likewise */
    HONE_EXPR_ENONFINITE,   /* a number or a coefficient that overflowed, at tok */
} hone_expr_err_t;

typedef struct {
    hone_expr_err_t kind;    /* HONE_EXPR_OK when there is none */
    size_t tok;              /* the token at fault */
    size_t first, last;      /* evaluation problems: the tokens of the operands */
} hone_expr_problem_t;

/* A parsed form: Σ coef[k]·name_k + coef[n_names]. */
typedef struct {
    const double *coef;      /* n_names coefficients, then the constant; valid until the
                              * next hone_expr_parse* or hone_expr_drop */
    size_t first, last;      /* the tokens it spans */
    size_t const_tok;        /* the token of its first constant still in it (a number, a
                              * CONST word, or "**" of x**0), HONE_EXPR_NONE if none */
} hone_expr_form_t;

/* Lexes text with lang's name rules. text and lang are borrowed and must outlive the
 * object. Never fails (a bad character ends the tokens with HONE_EXPR_BAD, a name past
 * max_names with HONE_EXPR_MANY); aborts on OOM. */
hone_expr_t *hone_expr_new(const char *text, const hone_expr_lang_t *lang);
/* Frees it and sets *self_p to NULL; safe on NULL and twice. */
void hone_expr_destroy(hone_expr_t **self_p);

/* The tokens: i < n_tokens; the last is END, BAD or MANY. Borrowed, valid for the
 * object's life. */
size_t hone_expr_n_tokens(const hone_expr_t *self);
const hone_expr_tok_t *hone_expr_token(const hone_expr_t *self, size_t i);
/* The distinct names, in order of first use: their canonical text (borrowed, valid for
 * the object's life) and their first token. k < n_names. */
size_t hone_expr_n_names(const hone_expr_t *self);
const char *hone_expr_name(const hone_expr_t *self, size_t k);
size_t hone_expr_name_token(const hone_expr_t *self, size_t k);

/* The cursor: the next token's index, and that token. */
size_t hone_expr_pos(const hone_expr_t *self);
const hone_expr_tok_t *hone_expr_peek(const hone_expr_t *self);
/* Moves past the next token when it is of kind; false (and no move) otherwise, or
 * after a syntax problem. */
bool hone_expr_accept(hone_expr_t *self, hone_expr_kind_t kind);
/* Records a syntax problem at the cursor, for the caller's own grammar (a trailing
 * comma, a missing relation); a no-op when there is one already. */
void hone_expr_reject(hone_expr_t *self);

/* Parses one form at the cursor and returns its handle for hone_expr_form. On a syntax
 * problem the form is meaningless. */
size_t hone_expr_parse(hone_expr_t *self);
/* Parses form ("<=" | ">=") form up to the end of the text and returns the handle of
 * their difference, moved to the left: Σ w·x + c <= 0 (lhs − rhs for "<=", rhs − lhs
 * for ">="). Anything else is a syntax problem: no relation, a strict one, a chain
 * ("0 <= x <= 1"), text after it. *rel is the relation's token (or where one was
 * expected). The difference itself is not checked for overflow. */
size_t hone_expr_parse_inequality(hone_expr_t *self, size_t *rel);
/* Form f (a handle from the calls above, still alive). */
hone_expr_form_t hone_expr_form(const hone_expr_t *self, size_t f);
/* True when form f has no name left (every coefficient 0). */
bool hone_expr_is_constant(const hone_expr_t *self, size_t f);
/* Forgets every form (the cursor stays): the next form starts the stack afresh. */
void hone_expr_drop(hone_expr_t *self);

/* The syntax problem, and the first evaluation problem; .kind is HONE_EXPR_OK when
 * there is none. Borrowed, valid for the object's life; they follow the parse (a
 * pointer taken before hone_expr_parse shows its outcome after it). */
const hone_expr_problem_t *hone_expr_syntax_error(const hone_expr_t *self);
const hone_expr_problem_t *hone_expr_eval_error(const hone_expr_t *self);

/* The column of the first character Ax forbids in these strings (; [ ' \), or
 * HONE_EXPR_NONE. Checked before lexing. */
size_t hone_expr_forbidden(const char *text);

/* Sets err to HONE_EINVAL with "<field>: at column <col> ('<token>'): <message>", the
 * token being len bytes of text at col (cut to 40 with "..."), or "at column <col> (end
 * of text)" when len is 0. The place comes first so that a long quoted string cannot
 * crowd it out of the message buffer. Returns HONE_EINVAL. */
int hone_expr_fail(hone_error_t *err, const char *field, const char *text, size_t col, size_t len,
                   const char *fmt, ...) HONE_PRINTF(6, 7);
/* The same at token tok of self ("end of text" for END). Returns HONE_EINVAL. */
int hone_expr_fail_at(const hone_expr_t *self, hone_error_t *err, const char *field, size_t tok,
                      const char *fmt, ...) HONE_PRINTF(5, 6);

#endif
