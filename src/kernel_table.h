/*
 * The end of every ISA file: the entry points over the kernel bodies, and the
 * one const table the dispatcher picks from (libsodium style). Included once
 * per ISA, after the bodies, with the vocabulary of that ISA in scope.
 */
#define FOCAL_CAT_(a, b) a##b
#define FOCAL_CAT(a, b) FOCAL_CAT_(a, b)
#define FOCAL_SIGMOID_ENTRY FOCAL_CAT(focal_sigmoid_, FOCAL_KERNEL_ID)

/* Expand each (gamma kind, grad?, per-element loss?) into its own loop, so the
 * choices cost nothing inside it. */
#define FOCAL_SIGMOID_CASE(gk)                                                     \
    case gk:                                                                       \
        if (grad)                                                                  \
            return loss ? focal_sigmoid_run(x, t, first, n, prm, loss, grad, sum, gk, 1, 1) \
                        : focal_sigmoid_run(x, t, first, n, prm, loss, grad, sum, gk, 1, 0); \
        return loss ? focal_sigmoid_run(x, t, first, n, prm, loss, grad, sum, gk, 0, 1)     \
                    : focal_sigmoid_run(x, t, first, n, prm, loss, grad, sum, gk, 0, 0);

static int FOCAL_SIGMOID_ENTRY(const float *x, const float *t, size_t first, size_t n,
                               const focal_sigmoid_params *prm,
                               float *loss, float *grad, double *sum)
{
    switch (prm->gamma_kind) {
        FOCAL_SIGMOID_CASE(FOCAL_GAMMA_0)
        FOCAL_SIGMOID_CASE(FOCAL_GAMMA_1)
        FOCAL_SIGMOID_CASE(FOCAL_GAMMA_2)
        FOCAL_SIGMOID_CASE(FOCAL_GAMMA_3)
    default:
        FOCAL_SIGMOID_CASE(FOCAL_GAMMA_ANY)
    }
}

const focal_kernel FOCAL_CAT(focal_kernel_, FOCAL_KERNEL_ID) = {
    FOCAL_KERNEL_NAME,
    FOCAL_SIGMOID_ENTRY,
};
