/*
 * clblast_conv: conv2d on one OpenCL device, three ways, timed in the same run:
 *   old   convkit's conv2d_fwd (one work-item per output element)
 *   new   the entry and tile macros convkit's host picks for the shape on a CPU device
 *         (Conv2dPlan.of with Conv2dTuning.CPU, mirrored below in choose / plan_new), or
 *         variants of it given with -e ENTRY and -V NAME=V,... (entry=NAME in -V picks an entry)
 *   blas  im2col (a plain kernel here, exact pads) + CLBlast's SGEMM, per image: the floor
 *         (no bias: every variant runs with zero biases; groups > 1 have no blas line)
 * Rounds interleave the three (each round starting with a different one) so that load from other
 * processes hits all alike, and an FMA-peak kernel runs between rounds to show how much of the
 * machine the run had. Each reports the median, min and max ms of its rounds, GFLOP/s of the
 * median, and the largest difference from the old kernel relative to the old kernel's largest |y|.
 * Workloads: the seed network's layers and ResNet-50 shapes (the ids of Conv2dBench), and three
 * depthwise layers.
 *
 * Build and run: native-bench/c/run.sh [options] (see there); options:
 *   -k DIR       kernels/ folder (default: kernels, relative to the working directory)
 *   -r N         timed rounds (default 15)
 *   -w NAME      only this workload (repeatable)
 *   -e ENTRY     force the new entry
 *   -V SPEC      one more variant of the new kernel: NAME=V,... macros over the host's, entry=NAME,
 *                kernels=DIR (another kernels/ folder, to compare kernel versions in one run)
 *   -s           skip the old kernel's timing (it still computes the reference once)
 *   -n           skip im2col + CLBlast
 *   -B SPEC      CLBlast parameters NAME=V,... (Xgemm's, and XGEMM_MIN_INDIRECT_SIZE) instead of
 *                its database's, which has no entry for this device
 */
#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>
#include <clblast_c.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CHECK(call)                                                                   \
    do {                                                                              \
        cl_int e_ = (call);                                                           \
        if (e_ != CL_SUCCESS) {                                                       \
            fprintf(stderr, "%s:%d: %s failed: %d\n", __FILE__, __LINE__, #call, e_); \
            exit(1);                                                                  \
        }                                                                             \
    } while (0)

typedef struct {
    const char* name;
    int n, c, h, w, oc, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr, g, bias;
    int oh, ow;
} Conv;

/* TensorFlow SAME: out = ceil(in / s), the smaller half of the pad first. */
static void same(int in, int k, int s, int d, int* before, int* after, int* out)
{
    int o = (in + s - 1) / s;
    int ext = (k - 1) * d + 1;
    int total = (o - 1) * s + ext - in;
    if (total < 0) {
        total = 0;
    }
    *before = total / 2;
    *after = total - *before;
    *out = o;
}

static Conv conv(const char* name, int n, int c, int h, int w, int oc, int k, int s, int samePad, int bias)
{
    Conv v = {name, n, c, h, w, oc, k, k, s, s, 1, 1, 0, 0, 0, 0, 1, bias, 0, 0};
    if (samePad) {
        same(h, k, s, 1, &v.pt, &v.pb, &v.oh);
        same(w, k, s, 1, &v.pl, &v.pr, &v.ow);
    } else {
        v.oh = (h - k) / s + 1;
        v.ow = (w - k) / s + 1;
    }
    return v;
}

static Conv depthwise(const char* name, int c, int hw, int k, int s)
{
    Conv v = conv(name, 1, c, hw, hw, c, k, s, 1, 1);
    v.g = c;
    return v;
}

static double flops(const Conv* v)
{
    return 2.0 * v->n * v->oc * v->oh * v->ow * (double) (v->c / v->g) * v->kh * v->kw;
}

static char* slurp(const char* path)
{
    FILE* f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "cannot read %s\n", path);
        exit(1);
    }
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char* s = malloc(len + 1);
    if (fread(s, 1, len, f) != (size_t) len) {
        exit(1);
    }
    s[len] = 0;
    fclose(f);
    return s;
}

/* conv2d.cl with its one include inlined, as the Java host's KernelSources does. */
static char* conv_source(const char* dir)
{
    char p[4096];
    snprintf(p, sizeof p, "%s/conv2d/conv2d.cl", dir);
    char* cl = slurp(p);
    snprintf(p, sizeof p, "%s/common/convkit.h", dir);
    char* h = slurp(p);
    const char* inc = "#include \"common/convkit.h\"";
    char* at = strstr(cl, inc);
    if (!at) {
        return cl;
    }
    char* out = malloc(strlen(cl) + strlen(h) + 2);
    size_t pre = at - cl;
    memcpy(out, cl, pre);
    strcpy(out + pre, h);
    strcat(out, at + strlen(inc));
    return out;
}

/* im2col, exact pads: col[k][oh*OW + ow] for k = (c, r, s); one work-item per (row of output, k),
   walking the row (contiguous writes; on a CPU the loop vectorises). */
static const char* IM2COL_SRC =
    "__kernel void im2col(__global const float* x, __global float* col, int xoff, int C, int H, int W, int KH, int KW,\n"
    "                     int SH, int SW, int DH, int DW, int PT, int PL, int OH, int OW) {\n"
    "  const int oh = get_global_id(0); const int k = get_global_id(1);\n"
    "  if (oh >= OH) return;\n"
    "  const int s = k % KW, r = (k / KW) % KH, c = k / (KH * KW);\n"
    "  const int ih = oh * SH - PT + r * DH;\n"
    "  __global float* dst = col + (k * OH + oh) * OW;\n"
    "  if (ih < 0 || ih >= H) { for (int ow = 0; ow < OW; ++ow) dst[ow] = 0.0f; return; }\n"
    "  __global const float* src = x + xoff + (c * H + ih) * W;\n"
    "  for (int ow = 0; ow < OW; ++ow) {\n"
    "    const int iw = ow * SW - PL + s * DW;\n"
    "    dst[ow] = (iw >= 0 && iw < W) ? src[iw] : 0.0f;\n"
    "  }\n"
    "}\n";

/* FMA throughput: 16 independent float16 chains per work-item, one work-group per compute unit. */
static const char* PEAK_SRC =
    "#define CHAIN(i) float16 a##i = (float16)(i) * 1e-3f;\n"
    "#define STEP(i) a##i = fma(a##i, m, c);\n"
    "#define ALL(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11) X(12) X(13) X(14) X(15)\n"
    "__kernel void peak(__global float* out, const int iters, const float mm) {\n"
    "  const float16 m = (float16)(mm); const float16 c = (float16)(1e-4f);\n"
    "  ALL(CHAIN)\n"
    "  for (int i = 0; i < iters; ++i) { ALL(STEP) }\n"
    "  float16 s = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11 + a12 + a13 + a14 + a15;\n"
    "  out[get_global_id(0)] = s.s0 + s.sf;\n"
    "}\n";

static cl_context ctx;
static cl_command_queue queue;
static cl_device_id dev;

static cl_program build(const char* src, const char* opts)
{
    cl_int err;
    cl_program p = clCreateProgramWithSource(ctx, 1, &src, NULL, &err);
    CHECK(err);
    if (clBuildProgram(p, 1, &dev, opts, NULL, NULL) != CL_SUCCESS) {
        char log[65536];
        clGetProgramBuildInfo(p, dev, CL_PROGRAM_BUILD_LOG, sizeof log, log, NULL);
        fprintf(stderr, "build failed (%s):\n%s\n", opts, log);
        exit(1);
    }
    return p;
}

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int cmp_double(const void* a, const void* b)
{
    double x = *(const double*) a, y = *(const double*) b;
    return x < y ? -1 : x > y;
}

/* A launch of a conv2d.cl entry: program options, entry, grid. */
typedef struct {
    char entry[64];
    char opts[1024];
    size_t global[3], local[3];
    Conv geo; /* the geometry passed as arguments (the 1x1 path flattens the image) */
} Launch;

static size_t round_up(size_t v, size_t m)
{
    return (v + m - 1) / m * m;
}

static int macro(const char* opts, const char* name, int dflt)
{
    char key[128];
    snprintf(key, sizeof key, "-D%s=", name);
    const char* at = NULL;
    for (const char* p = strstr(opts, key); p; p = strstr(p + 1, key)) {
        at = p; /* the last definition wins, as with -D on a compiler command line */
    }
    return at ? atoi(at + strlen(key)) : dflt;
}

static void plan_old(const Conv* v, Launch* l)
{
    strcpy(l->entry, "conv2d_fwd");
    snprintf(l->opts, sizeof l->opts, "-cl-std=CL1.2 -DCONV2D_TILE_W=16 -DCONV2D_TILE_H=4");
    l->geo = *v;
    size_t g[3] = {round_up(v->ow, 16), round_up(v->oh, 4), (size_t) v->n * v->oc};
    size_t lo[3] = {16, 4, 1};
    memcpy(l->global, g, sizeof g);
    memcpy(l->local, lo, sizeof lo);
}

static const char* force_entry = NULL;
/* -B: CLBlast tuning parameters (NAME=V,...) set with CLBlastOverrideParameters before any call:
   Xgemm's (KWG, KWI, MDIMA, ...), XgemmDirect's (WGD, MDIMCD, ...) and GemmRoutine's
   XGEMM_MIN_INDIRECT_SIZE (below it, in m * n * k, CLBlast runs XgemmDirect). */
static const char* blas_params = NULL;

static void override_blas(void)
{
    const char* xnames[32];
    size_t xvalues[32];
    size_t nx = 0;
    const char* dnames[32];
    size_t dvalues[32];
    size_t nd = 0;
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", blas_params);
    for (char* tok = strtok(buf, ", "); tok && nx < 32; tok = strtok(NULL, ", ")) {
        char* eq = strchr(tok, '=');
        if (!eq) {
            continue;
        }
        *eq = 0;
        if (!strcmp(tok, "XGEMM_MIN_INDIRECT_SIZE")) {
            const char* name = tok;
            size_t value = strtoul(eq + 1, NULL, 10);
            if (CLBlastOverrideParameters(dev, "GemmRoutine", CLBlastPrecisionSingle, 1, &name, &value) != CLBlastSuccess) {
                fprintf(stderr, "CLBlastOverrideParameters(GemmRoutine) refused\n");
                exit(1);
            }
            continue;
        }
        static const char* direct[] = {"WGD", "KWID", "MDIMAD", "MDIMCD", "NDIMBD", "NDIMCD", "PADA", "PADB", "VWMD", "VWND"};
        int isDirect = 0;
        for (size_t i = 0; i < sizeof direct / sizeof direct[0]; i++) {
            isDirect |= !strcmp(tok, direct[i]);
        }
        if (isDirect) {
            dnames[nd] = strdup(tok);
            dvalues[nd++] = strtoul(eq + 1, NULL, 10);
        } else {
            xnames[nx] = strdup(tok);
            xvalues[nx++] = strtoul(eq + 1, NULL, 10);
        }
    }
    if (nx > 0 && CLBlastOverrideParameters(dev, "Xgemm", CLBlastPrecisionSingle, nx, xnames, xvalues) != CLBlastSuccess) {
        fprintf(stderr, "CLBlastOverrideParameters(Xgemm) refused\n");
        exit(1);
    }
    if (nd > 0
        && CLBlastOverrideParameters(dev, "XgemmDirect", CLBlastPrecisionSingle, nd, dnames, dvalues) != CLBlastSuccess) {
        fprintf(stderr, "CLBlastOverrideParameters(XgemmDirect) refused\n");
        exit(1);
    }
}
/* Macro sets given with -V: each is one more variant of the new kernel. */
static char variant_defines[16][1024];
static int n_variants = 0;
static char variant_entry[16][64];
static char variant_kdir[16][512];

/*
 * Conv2dTuning.CPU (java/.../backend/plan/Conv2dTuning.java), the values the Java host uses
 * on PoCL, and Conv2dPlan.of's choice of entry and tile shape, mirrored here so that "new" is the
 * launch the library makes; Conv2dBench on opencl:0 measures the same through the Java host.
 */
static const int CPU_TILED[] = {8, 2, 16, 32768, 576}; /* RM RH RW XS KC */
static const int CPU_SHAPES[][3] = {{128, 8, 16}, {64, 8, 16}, {32, 8, 16}, {64, 4, 32}}; /* TM TOH TOW */
static const double CPU_SPEED[] = {1.0, 1.0, 0.8, 1.0};
#define CPU_N_SHAPES 4
static const int CPU_PW[] = {64, 64, 16, 16, 256}; /* TM TP RM RW KC */
static const int CPU_DW[] = {16, 4, 4};           /* RW WX WY */
static const int CPU_LANES = 1;
static const double CPU_MIN_USEFUL = 0.05;

static void cpu_defines(char* opts, const int* shape)
{
    char d[1024];
    snprintf(d, sizeof d,
             " -DCONV2D_TILE_W=16 -DCONV2D_TILE_H=4 -DCONV2D_TM=%d -DCONV2D_TOH=%d -DCONV2D_TOW=%d -DCONV2D_RM=%d"
             " -DCONV2D_RH=%d -DCONV2D_RW=%d -DCONV2D_XS=%d -DCONV2D_KC=%d -DCONV2D_PW_TM=%d -DCONV2D_PW_TP=%d"
             " -DCONV2D_PW_RM=%d -DCONV2D_PW_RW=%d -DCONV2D_PW_KC=%d -DCONV2D_DW_RW=%d -DCONV2D_DW_WX=%d"
             " -DCONV2D_DW_WY=%d -DCONV2D_LANES=%d",
             shape[0], shape[1], shape[2], CPU_TILED[0], CPU_TILED[1], CPU_TILED[2], CPU_TILED[3], CPU_TILED[4],
             CPU_PW[0], CPU_PW[1], CPU_PW[2], CPU_PW[3], CPU_PW[4], CPU_DW[0], CPU_DW[1], CPU_DW[2], CPU_LANES);
    strcat(opts, d);
}

static long ceil_div(long a, long b)
{
    return (a + b - 1) / b;
}

/* Conv2dPlan.of's entry and tile shape for the CPU table (its work-group and local-memory checks
   always pass on PoCL with these values). */
static const char* choose(const Conv* v, int* shape_index)
{
    int ocg = v->oc / v->g, cpg = v->c / v->g;
    *shape_index = 0;
    if (cpg == 1) {
        return "conv2d_depthwise";
    }
    if (v->kh == 1 && v->kw == 1 && v->sh == 1 && v->sw == 1 && v->pt == 0 && v->pl == 0 && v->pb == 0 && v->pr == 0) {
        long P = (long) v->h * v->w;
        double useful = (double) P / (ceil_div(P, CPU_PW[3]) * CPU_PW[3]) * ocg / (ceil_div(ocg, CPU_PW[2]) * CPU_PW[2]);
        return useful >= CPU_MIN_USEFUL ? "conv2d_1x1" : "conv2d_fwd";
    }
    double useful = (double) v->oh / (ceil_div(v->oh, CPU_TILED[1]) * CPU_TILED[1]) * v->ow
                    / (ceil_div(v->ow, CPU_TILED[2]) * CPU_TILED[2]) * ocg / (ceil_div(ocg, CPU_TILED[0]) * CPU_TILED[0]);
    double best = -1;
    for (int i = 0; i < CPU_N_SHAPES && useful >= CPU_MIN_USEFUL; i++) {
        const int* s = CPU_SHAPES[i];
        long rows = (long) (s[1] - 1) * v->sh + (long) (v->kh - 1) * v->dh + 1;
        long cpp = s[2] + (long) (v->kw - 1) * v->dw / v->sw;
        if ((long) v->kh * v->kw > CPU_TILED[4] || rows * v->sw * cpp > CPU_TILED[3]) {
            continue;
        }
        long th = ceil_div(v->oh, s[1]), tw = ceil_div(v->ow, s[2]), tm = ceil_div(ocg, s[0]);
        double tileUseful = (double) v->oh / (th * s[1]) * v->ow / (tw * s[2]) * ocg / (tm * s[0]);
        double groups = (double) th * tw * tm * v->n * v->g;
        double score = CPU_SPEED[i] * (groups / 4.0 < 1 ? groups / 4.0 : 1) + 1e-3 * tileUseful; /* 2 compute units */
        if (score > best) {
            best = score;
            *shape_index = i;
        }
    }
    return best >= 0 ? "conv2d_tiled" : "conv2d_fwd";
}

/* The new kernel's launch: the host's choice, or the -e / -V overrides; grids as conv2d.cl's header documents. */
static void plan_new(const Conv* v, const char* defines, const char* entry, Launch* l)
{
    int shape;
    const char* chosen = choose(v, &shape);
    l->geo = *v;
    strcpy(l->entry, entry[0] ? entry : force_entry ? force_entry : chosen);
    snprintf(l->opts, sizeof l->opts, "-cl-std=CL1.2");
    cpu_defines(l->opts, CPU_SHAPES[shape]);
    strcat(l->opts, defines); /* later -D win */
    const char* o = l->opts;
    int ocg = v->oc / v->g;
    if (!strcmp(l->entry, "conv2d_fwd")) {
        size_t g[3] = {round_up(v->ow, 16), round_up(v->oh, 4), (size_t) v->n * v->oc};
        size_t lo[3] = {16, 4, 1};
        memcpy(l->global, g, sizeof g);
        memcpy(l->local, lo, sizeof lo);
    } else if (!strcmp(l->entry, "conv2d_depthwise")) {
        int rw = macro(o, "CONV2D_DW_RW", 0), wx = macro(o, "CONV2D_DW_WX", 0), wy = macro(o, "CONV2D_DW_WY", 0);
        size_t g[3] = {round_up(ceil_div(v->ow, rw), wx), round_up(v->oh, wy), (size_t) v->n * v->oc};
        size_t lo[3] = {(size_t) wx, (size_t) wy, 1};
        memcpy(l->global, g, sizeof g);
        memcpy(l->local, lo, sizeof lo);
    } else if (!strcmp(l->entry, "conv2d_1x1")) {
        int tm = macro(o, "CONV2D_PW_TM", 0), tp = macro(o, "CONV2D_PW_TP", 0);
        int rm = macro(o, "CONV2D_PW_RM", 0), rw = macro(o, "CONV2D_PW_RW", 0);
        long P = (long) v->h * v->w;
        size_t g[3] = {(size_t) ceil_div(P, tp) * (tp / rw), (size_t) ceil_div(ocg, tm) * (tm / rm), (size_t) v->n * v->g};
        size_t lo[3] = {(size_t) (tp / rw), (size_t) (tm / rm), 1};
        memcpy(l->global, g, sizeof g);
        memcpy(l->local, lo, sizeof lo);
    } else {
        int tm = macro(o, "CONV2D_TM", 0), toh = macro(o, "CONV2D_TOH", 0), tow = macro(o, "CONV2D_TOW", 0);
        int rm = macro(o, "CONV2D_RM", 0), rh = macro(o, "CONV2D_RH", 0), rw = macro(o, "CONV2D_RW", 0);
        int wgx = (tow / rw) * (toh / rh), wgm = tm / rm;
        size_t tiles = (size_t) ceil_div(v->oh, toh) * ceil_div(v->ow, tow);
        size_t g[3] = {tiles * wgx, (size_t) ceil_div(ocg, tm) * wgm, (size_t) v->n * v->g};
        size_t lo[3] = {(size_t) wgx, (size_t) wgm, 1};
        memcpy(l->global, g, sizeof g);
        memcpy(l->local, lo, sizeof lo);
    }
}

static cl_kernel make_kernel(const char* src, const Launch* l, cl_mem x, cl_mem w, cl_mem b, cl_mem y)
{
    cl_program p = build(src, l->opts);
    cl_int err;
    cl_kernel k = clCreateKernel(p, l->entry, &err);
    CHECK(err);
    const Conv* v = &l->geo;
    int a[] = {v->n, v->c, v->h, v->w, v->oc, v->oh, v->ow, v->kh, v->kw, v->sh, v->sw, v->dh, v->dw, v->pt, v->pl, v->g, 0};
    CHECK(clSetKernelArg(k, 0, sizeof(cl_mem), &x));
    CHECK(clSetKernelArg(k, 1, sizeof(cl_mem), &w));
    CHECK(clSetKernelArg(k, 2, sizeof(cl_mem), b ? &b : NULL));
    CHECK(clSetKernelArg(k, 3, sizeof(cl_mem), &y));
    for (int i = 0; i < (int) (sizeof a / sizeof a[0]); i++) {
        CHECK(clSetKernelArg(k, 4 + i, sizeof(int), &a[i]));
    }
    clReleaseProgram(p);
    return k;
}

static double run_kernel(cl_kernel k, const Launch* l)
{
    double t0 = now_ms();
    CHECK(clEnqueueNDRangeKernel(queue, k, 3, NULL, l->global, l->local, 0, NULL, NULL));
    CHECK(clFinish(queue));
    return now_ms() - t0;
}

typedef struct {
    cl_kernel im2col;
    cl_mem col;
    int direct; /* 1x1, stride 1, no pad: the input already is the GEMM's B */
} Blas;

/* Milliseconds of the last run_blas spent in im2col. */
static double last_im2col_ms;

static double run_blas(const Conv* v, Blas* bl, cl_mem x, cl_mem w, cl_mem y)
{
    double t0 = now_ms();
    int P = v->oh * v->ow, K = v->c * v->kh * v->kw;
    last_im2col_ms = 0;
    for (int n = 0; n < v->n; n++) {
        cl_mem bmat = x;
        size_t boff = (size_t) n * v->c * v->h * v->w;
        if (!bl->direct) {
            double t1 = now_ms();
            int xoff = (int) boff;
            CHECK(clSetKernelArg(bl->im2col, 2, sizeof(int), &xoff));
            size_t g[2] = {(size_t) v->oh, (size_t) K};
            CHECK(clEnqueueNDRangeKernel(queue, bl->im2col, 2, NULL, g, NULL, 0, NULL, NULL));
            CHECK(clFinish(queue));
            last_im2col_ms += now_ms() - t1;
            bmat = bl->col;
            boff = 0;
        }
        cl_command_queue q = queue;
        CLBlastStatusCode s = CLBlastSgemm(CLBlastLayoutRowMajor, CLBlastTransposeNo, CLBlastTransposeNo, v->oc, P, K, 1.0f,
                                           w, 0, K, bmat, boff, P, 0.0f, y, (size_t) n * v->oc * P, P, &q, NULL);
        if (s != CLBlastSuccess) {
            fprintf(stderr, "CLBlastSgemm: %d\n", s);
            exit(1);
        }
    }
    CHECK(clFinish(queue));
    return now_ms() - t0;
}

/* GFLOP/s of the peak kernel: 2 x 16 x 16 FLOPs per iteration and work-item. */
static double run_peak(cl_kernel k, size_t items, int iters)
{
    size_t g = items, l = 1;
    double t0 = now_ms();
    CHECK(clEnqueueNDRangeKernel(queue, k, 1, NULL, &g, &l, 0, NULL, NULL));
    CHECK(clFinish(queue));
    double ms = now_ms() - t0;
    return 2.0 * 16 * 16 * (double) iters * items / ms / 1e6;
}

typedef struct {
    double ms[512];
    int count;
} Times;

static void summary(Times* t, double* med, double* lo, double* hi)
{
    qsort(t->ms, t->count, sizeof(double), cmp_double);
    *med = t->count % 2 ? t->ms[t->count / 2] : 0.5 * (t->ms[t->count / 2 - 1] + t->ms[t->count / 2]);
    *lo = t->ms[0];
    *hi = t->ms[t->count - 1];
}

static double rel_diff(const float* a, const float* ref, size_t len)
{
    double worst = 0, scale = 0;
    for (size_t i = 0; i < len; i++) {
        double d = fabs((double) a[i] - ref[i]);
        if (!(d <= worst)) {
            worst = d; /* NaN sticks */
        }
        if (fabs(ref[i]) > scale) {
            scale = fabs(ref[i]);
        }
    }
    return worst / scale;
}

int main(int argc, char** argv)
{
    const char* kdir = "kernels";
    int rounds = 15, skip_old = 0, skip_blas = 0;
    const char* only[32];
    int n_only = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-k") && i + 1 < argc) {
            kdir = argv[++i];
        } else if (!strcmp(argv[i], "-r") && i + 1 < argc) {
            rounds = atoi(argv[++i]);
        } else if (!strcmp(argv[i], "-w") && i + 1 < argc) {
            only[n_only++] = argv[++i];
        } else if (!strcmp(argv[i], "-e") && i + 1 < argc) {
            force_entry = argv[++i];
        } else if (!strcmp(argv[i], "-V") && i + 1 < argc && n_variants < 16) {
            /* NAME=V,NAME=V: macros of one variant */
            char* d = variant_defines[n_variants++];
            d[0] = 0;
            char buf[1024];
            snprintf(buf, sizeof buf, "%s", argv[++i]);
            for (char* tok = strtok(buf, ", "); tok; tok = strtok(NULL, ", ")) {
                if (!strncmp(tok, "kernels=", 8)) {
                    snprintf(variant_kdir[n_variants - 1], sizeof variant_kdir[0], "%s", tok + 8);
                    continue;
                }
                if (!strncmp(tok, "entry=", 6)) {
                    snprintf(variant_entry[n_variants - 1], sizeof variant_entry[0], "%s", tok + 6);
                    continue;
                }
                strcat(d, " -D");
                strcat(d, tok);
            }
        } else if (!strcmp(argv[i], "-B") && i + 1 < argc) {
            blas_params = argv[++i];
        } else if (!strcmp(argv[i], "-n")) {
            skip_blas = 1;
        } else if (!strcmp(argv[i], "-s")) {
            skip_old = 1;
        } else {
            fprintf(stderr, "usage: %s [-k kernels] [-r rounds] [-w workload]... [-e entry] [-V NAME=V,...]... [-s] [-n] [-B NAME=V,...]\n", argv[0]);
            return 2;
        }
    }
    if (rounds > 500) {
        rounds = 500;
    }

    Conv all[] = {
        conv("seed_conv1", 1, 3, 200, 300, 100, 3, 2, 1, 1),
        conv("seed_conv2", 1, 100, 100, 150, 200, 3, 2, 1, 1),
        conv("seed_conv3", 1, 200, 50, 75, 400, 3, 2, 1, 1),
        conv("W3a_3x3_64_56", 1, 64, 56, 56, 64, 3, 1, 1, 0),
        conv("W3b_3x3_256_14", 1, 256, 14, 14, 256, 3, 1, 1, 0),
        conv("W3c_1x1_256to64_56", 1, 256, 56, 56, 64, 1, 1, 0, 0),
        conv("W3d_7x7s2_3to64_224", 1, 3, 224, 224, 64, 7, 2, 1, 0),
        depthwise("dw_3x3_32_112", 32, 112, 3, 1),
        depthwise("dw_3x3s2_64_112", 64, 112, 3, 2),
        depthwise("dw_3x3_512_14", 512, 14, 3, 1),
    };

    cl_platform_id plat;
    CHECK(clGetPlatformIDs(1, &plat, NULL));
    CHECK(clGetDeviceIDs(plat, CL_DEVICE_TYPE_ALL, 1, &dev, NULL));
    char devname[256];
    clGetDeviceInfo(dev, CL_DEVICE_NAME, sizeof devname, devname, NULL);
    cl_int err;
    ctx = clCreateContext(NULL, 1, &dev, NULL, NULL, &err);
    CHECK(err);
    queue = clCreateCommandQueue(ctx, dev, 0, &err);
    CHECK(err);
    char* src = conv_source(kdir);
    if (blas_params) {
        override_blas();
    }
    cl_program im2colProg = build(IM2COL_SRC, "-cl-std=CL1.2");

    cl_program peakProg = build(PEAK_SRC, "-cl-std=CL1.2");
    cl_kernel peak = clCreateKernel(peakProg, "peak", &err);
    CHECK(err);
    cl_uint cus;
    clGetDeviceInfo(dev, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof cus, &cus, NULL);
    cl_mem peakOut = clCreateBuffer(ctx, CL_MEM_READ_WRITE, 4096, NULL, &err);
    CHECK(err);
    int peakIters = 2000000;
    float mm = 0.999f;
    CHECK(clSetKernelArg(peak, 0, sizeof(cl_mem), &peakOut));
    CHECK(clSetKernelArg(peak, 1, sizeof(int), &peakIters));
    CHECK(clSetKernelArg(peak, 2, sizeof(float), &mm));
    run_peak(peak, cus, peakIters);
    Times peaks = {0};

    if (n_variants == 0) {
        variant_defines[n_variants++][0] = 0;
    }
    printf("device: %s; %d rounds, interleaved\n", devname, rounds);
    printf("%-22s %-44s %9s %9s %9s %8s %10s\n", "workload", "variant", "median", "min", "max", "GFLOP/s", "rel diff");
    for (size_t wi = 0; wi < sizeof all / sizeof all[0]; wi++) {
        Conv* v = &all[wi];
        int take = n_only == 0;
        for (int i = 0; i < n_only; i++) {
            take |= !strcmp(only[i], v->name);
        }
        if (!take) {
            continue;
        }
        size_t xl = (size_t) v->n * v->c * v->h * v->w, wl = (size_t) v->oc * (v->c / v->g) * v->kh * v->kw;
        size_t yl = (size_t) v->n * v->oc * v->oh * v->ow;
        float* hx = malloc(xl * 4);
        float* hw = malloc(wl * 4);
        float* hb = malloc(v->oc * 4);
        srand(1234);
        for (size_t i = 0; i < xl; i++) {
            hx[i] = rand() / (float) RAND_MAX * 2 - 1;
        }
        for (size_t i = 0; i < wl; i++) {
            hw[i] = rand() / (float) RAND_MAX * 2 - 1;
        }
        for (int i = 0; i < v->oc; i++) {
            hb[i] = 0; /* CLBlast's GEMM adds no bias: keep every variant comparable */
        }
        cl_mem x = clCreateBuffer(ctx, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR, xl * 4, hx, &err);
        CHECK(err);
        cl_mem w = clCreateBuffer(ctx, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR, wl * 4, hw, &err);
        CHECK(err);
        cl_mem b = clCreateBuffer(ctx, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR, v->oc * 4, hb, &err);
        CHECK(err);
        /* Variant 0 is the old kernel, 1..n_variants the new one, the last im2col + CLBlast. */
        int nv = n_variants + 2;
        cl_mem y[18];
        float* hy[18];
        for (int i = 0; i < nv; i++) {
            y[i] = clCreateBuffer(ctx, CL_MEM_READ_WRITE, yl * 4, NULL, &err);
            CHECK(err);
            hy[i] = malloc(yl * 4);
        }
        Launch ls[18];
        cl_kernel ks[18];
        char labels[18][160];
        plan_old(v, &ls[0]);
        snprintf(labels[0], sizeof labels[0], "old conv2d_fwd");
        for (int i = 1; i <= n_variants; i++) {
            plan_new(v, variant_defines[i - 1], variant_entry[i - 1], &ls[i]);
            snprintf(labels[i], sizeof labels[i], "%s %zux%zu%s", ls[i].entry + 7, ls[i].local[0], ls[i].local[1],
                     n_variants > 1 ? variant_defines[i - 1] : "");
        }
        snprintf(labels[nv - 1], sizeof labels[nv - 1], "im2col + CLBlast SGEMM");
        for (int i = 0; i < nv - 1; i++) {
            const char* s = i > 0 && variant_kdir[i - 1][0] ? conv_source(variant_kdir[i - 1]) : src;
            ks[i] = make_kernel(s, &ls[i], x, w, v->bias ? b : NULL, y[i]);
        }
        Blas bl = {0};
        bl.direct = v->kh == 1 && v->kw == 1 && v->sh == 1 && v->sw == 1 && v->pt == 0 && v->pl == 0 && v->pb == 0 && v->pr == 0;
        if (!bl.direct) {
            size_t cl_len = (size_t) v->c * v->kh * v->kw * v->oh * v->ow;
            bl.col = clCreateBuffer(ctx, CL_MEM_READ_WRITE, cl_len * 4, NULL, &err);
            CHECK(err);
            bl.im2col = clCreateKernel(im2colProg, "im2col", &err);
            CHECK(err);
            int a[] = {0, v->c, v->h, v->w, v->kh, v->kw, v->sh, v->sw, v->dh, v->dw, v->pt, v->pl, v->oh, v->ow};
            CHECK(clSetKernelArg(bl.im2col, 0, sizeof(cl_mem), &x));
            CHECK(clSetKernelArg(bl.im2col, 1, sizeof(cl_mem), &bl.col));
            for (int i = 0; i < 14; i++) {
                CHECK(clSetKernelArg(bl.im2col, 2 + i, sizeof(int), &a[i]));
            }
        }
        /* Warm-up (PoCL compiles per local size, CLBlast compiles on first use); the old kernel's
           output is the reference of every other variant even when its timing is skipped. */
        for (int i = 0; i < nv - 1; i++) {
            run_kernel(ks[i], &ls[i]);
            if (i > 0) {
                run_kernel(ks[i], &ls[i]);
            }
        }
        int blas = !skip_blas && v->g == 1; /* CLBlast's im2col + GEMM has no groups */
        if (blas) {
            run_blas(v, &bl, x, w, y[nv - 1]);
            run_blas(v, &bl, x, w, y[nv - 1]);
        }
        static Times t[18];
        memset(t, 0, sizeof t);
        static Times im2col_t;
        memset(&im2col_t, 0, sizeof im2col_t);
        int old_rounds = rounds < 5 ? rounds : 5; /* the old kernel is 10-50x slower */
        for (int r = 0; r < rounds; r++) {
            /* Each round starts with a different variant: whatever the order costs (a wake-up
               after the peak kernel, caches) falls on every variant alike. */
            for (int step = 0; step < nv; step++) {
                int i = (r + step) % nv;
                if (i == 0 && !skip_old && r < old_rounds) {
                    t[0].ms[t[0].count++] = run_kernel(ks[0], &ls[0]);
                } else if (i > 0 && i < nv - 1) {
                    t[i].ms[t[i].count++] = run_kernel(ks[i], &ls[i]);
                } else if (i == nv - 1 && blas) {
                    t[nv - 1].ms[t[nv - 1].count++] = run_blas(v, &bl, x, w, y[nv - 1]);
                    im2col_t.ms[im2col_t.count++] = last_im2col_ms;
                }
            }
            if (peaks.count < 500) {
                peaks.ms[peaks.count++] = run_peak(peak, cus, peakIters);
            }
        }
        for (int i = 0; i < nv; i++) {
            CHECK(clEnqueueReadBuffer(queue, y[i], CL_TRUE, 0, yl * 4, hy[i], 0, NULL, NULL));
        }
        for (int i = 0; i < nv; i++) {
            if (t[i].count == 0) {
                continue;
            }
            double med, mn, mx;
            summary(&t[i], &med, &mn, &mx);
            printf("%-22s %-44s %9.3f %9.3f %9.3f %8.1f %10.2e\n", v->name, labels[i], med, mn, mx, flops(v) / med / 1e6,
                   i == 0 ? 0.0 : rel_diff(hy[i], hy[0], yl));
            if (i == nv - 1 && im2col_t.count > 0 && !bl.direct) {
                summary(&im2col_t, &med, &mn, &mx);
                printf("%-22s %-44s %9.3f %9.3f %9.3f\n", v->name, "  of which im2col", med, mn, mx);
            }
        }
        fflush(stdout);
        for (int i = 0; i < nv - 1; i++) {
            clReleaseKernel(ks[i]);
        }
        if (bl.im2col) {
            clReleaseKernel(bl.im2col);
            clReleaseMemObject(bl.col);
        }
        clReleaseMemObject(x);
        clReleaseMemObject(w);
        clReleaseMemObject(b);
        for (int i = 0; i < nv; i++) {
            clReleaseMemObject(y[i]);
            free(hy[i]);
        }
        free(hx);
        free(hw);
        free(hb);
    }
    if (peaks.count > 0) {
        double med, mn, mx;
        summary(&peaks, &med, &mn, &mx);
        printf("FMA peak kernel between rounds (%u work-items, one per compute unit): median %.1f GFLOP/s, min %.1f, max %.1f\n",
               cus, med, mn, mx);
    }
    return 0;
}
