/* SPDX-License-Identifier: MIT */
/* A program built against an installed libfocal: checks that the header and
 * the library agree on the version and that the mmcv check value comes out,
 * and how it links focal_options_init: the header's macro is the sized init
 * (the whole struct), the function itself the default symbol version,
 * focal_options_init@@FOCAL_1.3 (the 1.1 struct), in a shared and a static
 * link alike (libfocal.a keeps the versioned names). */
#include <focal/focal.h>

#include <stdio.h>
#include <string.h>

static double absd(double v) { return v < 0 ? -v : v; }

static int check_options_init(void)
{
    /* The 1.1 struct ends after weight: what the by-name default writes. */
    const size_t size_1_1 = offsetof(focal_options, weight) + sizeof(const float *);
    unsigned char buf[sizeof(focal_options) + 16];
    focal_options o;
    size_t i;
    int failures = 0;

    focal_options_init(&o);
    if (o.size != sizeof(focal_options) || o.alpha != 0.25f || o.gamma != 2.0f) {
        fprintf(stderr, "focal_options_init(&o): size %u, want %u\n", (unsigned)o.size,
                (unsigned)sizeof(focal_options));
        failures++;
    }
    memset(buf, 0xA5, sizeof buf);
    (focal_options_init)((focal_options *)(void *)buf);
    memcpy(&o, buf, size_1_1);
    for (i = size_1_1; i < sizeof buf; i++)
        failures += buf[i] != 0xA5;
    if (o.size != size_1_1 || failures) {
        fprintf(stderr, "(focal_options_init)(buf): size %u, want %u, %d bytes past it\n",
                (unsigned)o.size, (unsigned)size_1_1, failures);
        failures++;
    }
    if (focal_options_init_sized(&o, size_1_1 + 4) != FOCAL_EOPTIONS) {
        fprintf(stderr, "focal_options_init_sized: a size of no struct accepted\n");
        failures++;
    }
    return failures;
}

int main(void)
{
    static const float x[4] = {1, 0, 0, 1}, t[4] = {1, 0, 0, 1};
    static const double want_grad[4] = {-0.01314528, 0.2237151, 0.2237151, -0.01314528};
    const double want_sum = 0.27125922146421316;
    char version[32];
    float loss = 0, grad[4] = {0};
    int rc, i, failures = 0;

    snprintf(version, sizeof version, "%d.%d.%d",
             FOCAL_VERSION_MAJOR, FOCAL_VERSION_MINOR, FOCAL_VERSION_PATCH);
    if (focal_version() != FOCAL_VERSION_NUMBER || strcmp(focal_version_string(), version)) {
        fprintf(stderr, "header is %s (0x%06x), library is %s (0x%06x)\n", version,
                (unsigned)FOCAL_VERSION_NUMBER, focal_version_string(), (unsigned)focal_version());
        failures++;
    }

    rc = focal_sigmoid_loss_grad(x, t, 4, 0.25f, 2.0f, FOCAL_REDUCTION_SUM, &loss, grad);
    if (rc != FOCAL_OK) {
        fprintf(stderr, "focal_sigmoid_loss_grad: %s\n", focal_strerror(rc));
        return 1;
    }
    if (absd(loss - want_sum) > 1e-6 * want_sum) {
        fprintf(stderr, "sum %.9g, want %.9g\n", loss, want_sum);
        failures++;
    }
    for (i = 0; i < 4; i++) {
        if (absd(grad[i] - want_grad[i]) > 1e-6) {
            fprintf(stderr, "grad[%d] %.9g, want %.9g\n", i, grad[i], want_grad[i]);
            failures++;
        }
    }
    rc = focal_sigmoid_loss_grad(x, t, 4, 2.0f, 2.0f, FOCAL_REDUCTION_SUM, &loss, NULL);
    if (rc != FOCAL_EALPHA) {
        fprintf(stderr, "alpha 2: got %d, want FOCAL_EALPHA\n", rc);
        failures++;
    }

    failures += check_options_init();

    printf("libfocal %s, kernel %s: sum %.9g, grad [%.8g %.8g %.8g %.8g]: %s\n",
           focal_version_string(), focal_isa(), loss, grad[0], grad[1], grad[2], grad[3],
           failures ? "FAILED" : "ok");
    return failures != 0;
}
