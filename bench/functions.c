#include "functions.h"

#include <math.h>
#include <string.h>

double hone_bench_branin(const double *x, size_t d)
{
    (void) d;
    const double a = 1.0, b = 5.1 / (4.0 * M_PI * M_PI), c = 5.0 / M_PI;
    const double r = 6.0, s = 10.0, t = 1.0 / (8.0 * M_PI);
    double u = x[1] - b * x[0] * x[0] + c * x[0] - r;
    return a * u * u + s * (1.0 - t) * cos(x[0]) + s;
}

double hone_bench_hartmann6(const double *x, size_t d)
{
    (void) d;
    static const double alpha[4] = { 1.0, 1.2, 3.0, 3.2 };
    static const double A[4][6] = {
        { 10, 3, 17, 3.5, 1.7, 8 },
        { 0.05, 10, 17, 0.1, 8, 14 },
        { 3, 3.5, 1.7, 10, 17, 8 },
        { 17, 8, 0.05, 10, 0.1, 14 },
    };
    static const double P[4][6] = {
        { 0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886 },
        { 0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991 },
        { 0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650 },
        { 0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381 },
    };
    double sum = 0.0;
    for (int i = 0; i < 4; i++) {
        double inner = 0.0;
        for (int j = 0; j < 6; j++) {
            double diff = x[j] - P[i][j];
            inner += A[i][j] * diff * diff;
        }
        sum += alpha[i] * exp(-inner);
    }
    return -sum;
}

double hone_bench_ackley(const double *x, size_t d)
{
    const double a = 20.0, b = 0.2, c = 2.0 * M_PI;
    double s1 = 0.0, s2 = 0.0;
    for (size_t i = 0; i < d; i++) {
        s1 += x[i] * x[i];
        s2 += cos(c * x[i]);
    }
    return -a * exp(-b * sqrt(s1 / (double) d)) - exp(s2 / (double) d) + a + M_E;
}

double hone_bench_rosenbrock(const double *x, size_t d)
{
    double sum = 0.0;
    for (size_t i = 0; i + 1 < d; i++) {
        double u = x[i + 1] - x[i] * x[i];
        double v = 1.0 - x[i];
        sum += 100.0 * u * u + v * v;
    }
    return sum;
}

const char *const hone_bench_training_optimizer_names[HONE_BENCH_TRAINING_OPTIMIZERS] = {
    "adam", "sgd", "rmsprop",
};

int hone_bench_training_optimizer(const char *name)
{
    for (int i = 0; i < HONE_BENCH_TRAINING_OPTIMIZERS; i++)
        if (strcmp(hone_bench_training_optimizer_names[i], name) == 0)
            return i;
    return -1;
}

double hone_bench_training(const double *x, size_t d)
{
    (void) d;
    /* Per optimizer: best log10(learning rate) at 5 layers, curvature in log10(lr),
     * and the loss it can reach at best. */
    static const double best_log_lr[3] = { -3.0, -1.5, -3.5 };
    static const double width[3] = { 0.05, 0.4, 0.08 };
    static const double reachable[3] = { 0.02, 0.0, 0.05 };
    int opt = (int) x[3];
    if (opt < 0 || opt >= HONE_BENCH_TRAINING_OPTIMIZERS)
        return NAN;
    double layers = x[1], dropout = x[2];
    double lr_miss = log10(x[0]) - (best_log_lr[opt] - 0.1 * (layers - 5.0));
    double dropout_miss = dropout - 0.05 * layers;
    return 0.1 + reachable[opt] + width[opt] * lr_miss * lr_miss + 0.01 * (layers - 5.0) * (layers - 5.0)
           + dropout_miss * dropout_miss;
}

double hone_bench_branin_violation(const double *x, size_t d)
{
    (void) d;
    return x[0] + x[1] - 5.0;
}

static const hone_bench_problem_t s_problems[] = {
    { .name = "branin", .dim = 2, .lower = -5.0, .upper = 15.0, .optimum = 0.397887357729739,
      .fn = hone_bench_branin },
    { .name = "hartmann6", .dim = 6, .lower = 0.0, .upper = 1.0, .optimum = -3.32236801141551,
      .fn = hone_bench_hartmann6 },
    { .name = "ackley", .dim = 0, .lower = -32.768, .upper = 32.768, .optimum = 0.0, .fn = hone_bench_ackley },
    { .name = "rosenbrock", .dim = 0, .lower = -5.0, .upper = 10.0, .optimum = 0.0, .fn = hone_bench_rosenbrock },
    /* Mixed parameters: lower/upper do not apply (see functions.h). */
    { .name = "training", .dim = 4, .lower = 0.0, .upper = 0.0, .optimum = 0.1, .fn = hone_bench_training },
    { .name = "branin_constrained", .dim = 2, .lower = -5.0, .upper = 15.0, .optimum = 0.569739742891345,
      .fn = hone_bench_branin, .constraint = "x1 + x2 <= 5", .violation = hone_bench_branin_violation },
};

const hone_bench_problem_t *hone_bench_find(const char *name)
{
    for (size_t i = 0; i < sizeof s_problems / sizeof s_problems[0]; i++)
        if (strcmp(s_problems[i].name, name) == 0)
            return &s_problems[i];
    return NULL;
}

/* ---- "curve": the learning-curve family documented in functions.h ---- */

static double s_curve_center(size_t i, size_t d)
{
    return (double) (i + 1) / (double) (d + 1);
}

double hone_bench_curve_final(const double *x, size_t d)
{
    double sum = 0.1;
    for (size_t i = 0; i < d; i++) {
        double u = x[i] - s_curve_center(i, d);
        sum += u * u;
    }
    return sum;
}

double hone_bench_curve_worst(size_t d)
{
    double sum = 0.1;
    for (size_t i = 0; i < d; i++) {
        double c = s_curve_center(i, d), u = c > 0.5 ? c : 1.0 - c;
        sum += u * u;
    }
    return sum;
}

double hone_bench_curve_tau(const double *x, size_t d)
{
    (void) d;
    return 2.0 + 10.0 * x[0];
}

double hone_bench_curve_mean(const double *x, size_t d, int64_t progression)
{
    const double horizon = HONE_BENCH_CURVE_HORIZON;
    double p = progression < 0 ? 0.0 : progression > HONE_BENCH_CURVE_HORIZON ? horizon : (double) progression;
    double final = hone_bench_curve_final(x, d), tau = hone_bench_curve_tau(x, d);
    double tail = exp(-horizon / tau);
    double g = (exp(-p / tau) - tail) / (1.0 - tail);
    return final + (HONE_BENCH_CURVE_START - final) * g;
}

static uint64_t s_splitmix64(uint64_t z)
{
    z += 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

double hone_bench_curve(const double *x, size_t d, int64_t progression, uint64_t seed)
{
    int64_t p = progression < 0 ? 0 : progression > HONE_BENCH_CURVE_HORIZON ? HONE_BENCH_CURVE_HORIZON : progression;
    uint64_t h = s_splitmix64(seed ^ s_splitmix64((uint64_t) p + 0x51ED270B2A6D5C3Bull));
    /* two uniforms in (0, 1) from the 53 high bits of two draws, then Box-Muller */
    double u1 = ((double) (h >> 11) + 0.5) / 9007199254740992.0;
    double u2 = ((double) (s_splitmix64(h) >> 11) + 0.5) / 9007199254740992.0;
    double z = sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
    return hone_bench_curve_mean(x, d, p) + HONE_BENCH_CURVE_NOISE * z;
}

/* ---- Several goals: the problems documented in functions.h ---- */

void hone_bench_branincurrin(const double *x, size_t d, double *out)
{
    (void) d;
    double native[2] = { 15.0 * x[0] - 5.0, 15.0 * x[1] };
    out[0] = hone_bench_branin(native, 2);
    double x1 = x[0], factor = 1.0 - exp(-1.0 / (2.0 * x[1]));
    double numer = ((2300.0 * x1 + 1900.0) * x1 + 2092.0) * x1 + 60.0;
    double denom = ((100.0 * x1 + 500.0) * x1 + 4.0) * x1 + 20.0;
    out[1] = factor * numer / denom;
}

void hone_bench_dtlz2(const double *x, size_t d, size_t m, double *out)
{
    double g = 0.0;
    for (size_t i = m - 1; i < d; i++)
        g += (x[i] - 0.5) * (x[i] - 0.5);
    for (size_t i = 0; i < m; i++) {
        size_t last = m - 1 - i;   /* objective i: cosines of x[0..last), then sin(x[last]) */
        double f = 1.0 + g;
        for (size_t j = 0; j < last; j++)
            f *= cos(x[j] * M_PI / 2.0);
        if (i > 0)
            f *= sin(x[last] * M_PI / 2.0);
        out[i] = f;
    }
}

static void s_dtlz2_3(const double *x, size_t d, double *out)
{
    hone_bench_dtlz2(x, d, 3, out);
}

void hone_bench_branin_disc(const double *x, size_t d, double *out)
{
    (void) d;
    out[0] = hone_bench_branin(x, 2);
    out[1] = (x[0] - 2.5) * (x[0] - 2.5) + (x[1] - 7.5) * (x[1] - 7.5);
}

static const hone_bench_moo_t s_moo_problems[] = {
    { .name = "branincurrin", .source = "BoTorch BraninCurrin (botorch/test_functions/multi_objective.py)",
      .dim = 2, .lower = { 0, 0 }, .upper = { 1, 1 }, .n_metrics = 2, .metrics = { "branin", "currin" },
      /* max_hv: computed here; BoTorch's 59.3601 is short of it (functions.h) */
      .n_obj = 2, .ref = { 18.0, 6.0 }, .max_hv = 59.4066, .optimum = NAN,
      .fn = hone_bench_branincurrin },
    { .name = "dtlz2", .source = "Deb et al. 2005; BoTorch DTLZ2(dim=6, num_objectives=3)", .dim = 6,
      .lower = { 0, 0, 0, 0, 0, 0 }, .upper = { 1, 1, 1, 1, 1, 1 }, .n_metrics = 3,
      .metrics = { "f1", "f2", "f3" }, .n_obj = 3, .ref = { 1.1, 1.1, 1.1 },
      .max_hv = 1.1 * 1.1 * 1.1 - M_PI / 6.0, .optimum = NAN, .fn = s_dtlz2_3 },
    { .name = "branin_disc",
      .source = "Branin under Gelbart, Snoek & Adams 2014's disc (BoTorch ConstrainedBraninCurrin's constraint)",
      .dim = 2, .lower = { -5, 0 }, .upper = { 10, 15 }, .n_metrics = 2, .metrics = { "branin", "disc" },
      .n_obj = 1, .ref = { NAN }, .max_hv = NAN, .optimum = 0.397887357729739, .bound = { NAN, 50.0 },
      .fn = hone_bench_branin_disc },
};

const hone_bench_moo_t *hone_bench_moo_find(const char *name)
{
    for (size_t i = 0; i < sizeof s_moo_problems / sizeof s_moo_problems[0]; i++)
        if (strcmp(s_moo_problems[i].name, name) == 0)
            return &s_moo_problems[i];
    return NULL;
}

const hone_bench_moo_t *hone_bench_moo_at(size_t i)
{
    return i < sizeof s_moo_problems / sizeof s_moo_problems[0] ? &s_moo_problems[i] : NULL;
}
