/*
 * clblast_bench: a chain of convolutions as im2col + CLBlast's SGEMM on one OpenCL device, so that
 * the peers suite of `./convkit bench` can time it beside convkit's OpenCL kernels on the same
 * weights and input (org.convkit.bench.peers.ClblastPeer writes the folder and speaks the protocol).
 *
 * Usage: clblast_bench DIR [-d DEVICE] [-B NAME=V,...]
 *   -d DEVICE  the OpenCL device, numbered as convkit numbers opencl:N (platforms in order, every
 *              device type); default 0
 *   -B SPEC    CLBlast parameters set with CLBlastOverrideParameters before any call: Xgemm's (KWG,
 *              MDIMC, ...), XgemmDirect's (WGD, MDIMCD, ...) and GemmRoutine's XGEMM_MIN_INDIRECT_SIZE.
 *              CLBlast's database has no entry for PoCL; the harness passes clblast_params.txt.
 *   DIR/spec.txt   one line per item, the format of onednn_bench.cpp's spec; only these here:
 *                    input N C H W
 *                    conv OC KH KW SH SW DH DW PT PL PB PR GROUPS BIAS RELU -> N C H W
 *                  (dilations are convkit's: 1 = dense; pads top, left, bottom, right; GROUPS 1)
 *   DIR/input.bin  the input, NCHW float32 (host byte order)
 *   DIR/L<i>_w.bin, DIR/L<i>_b.bin  layer i's weights (OIHW) and bias
 * Then commands on stdin, one per line, each answered on one stdout line:
 *   run K      K timed iterations: "ms t1 ... tK"
 *   out PATH   writes the output of the last iteration, NCHW float32: "ok"
 *   quit       (or end of input)
 * On start (after one untimed iteration, in which CLBlast compiles its kernels) it prints
 * "ready <CLBlast library file> <device name>", or "error ..." and exits 1.
 *
 * What one iteration does, all on one in-order queue with one clFinish at the end (the input is
 * on the device already, the output stays there): per layer and image, im2col into a column
 * buffer (K = C*KH*KW rows of OH*OW; skipped for a 1x1 stride-1 unpadded layer, whose input is
 * the column matrix), then SGEMM W[OC x K] * col[K x OH*OW] into the image's NCHW output, then one
 * kernel adding the bias and applying ReLU over the layer's output where the layer has either.
 */
#define _GNU_SOURCE
#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>
#include <clblast_c.h>
#include <dlfcn.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Every failure ends the driver with one "error ..." line, which the harness reports. */
static void fail(const char* fmt, ...)
{
    va_list a;
    va_start(a, fmt);
    printf("error ");
    vprintf(fmt, a);
    printf("\n");
    fflush(stdout);
    va_end(a);
    exit(1);
}

#define CHECK(call)                                                    \
    do {                                                               \
        cl_int e_ = (call);                                            \
        if (e_ != CL_SUCCESS) {                                        \
            fail("%s failed with OpenCL error %d (line %d)", #call, e_, __LINE__); \
        }                                                              \
    } while (0)

typedef struct {
    int c, h, w, oc, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr, bias, relu, oh, ow;
    int direct;   /* 1x1, stride 1, no pad: the input image is the GEMM's B as it is */
    cl_mem wbuf, bbuf, y;
} Layer;

/* im2col, exact pads: col[k][oh*OW + ow] for k = (c, r, s); one work-item per (output row, k),
   walking the row (contiguous writes; on a CPU device the loop vectorises). */
static const char* KERNELS_SRC =
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
    "}\n"
    "/* y[n][o][p] = relu?(y + b[o]): one work-item per element, rows of P along dimension 0. */\n"
    "__kernel void bias_relu(__global float* y, __global const float* b, int OC, int P, int hasBias, int relu) {\n"
    "  const int p = get_global_id(0); const int row = get_global_id(1);\n"
    "  __global float* v = y + (size_t) row * P + p;\n"
    "  float t = *v + (hasBias ? b[row % OC] : 0.0f);\n"
    "  *v = relu ? (t < 0.0f ? 0.0f : t) : t;\n"
    "}\n";

static cl_context ctx;
static cl_command_queue queue;
static cl_device_id dev;
static cl_kernel im2col, epilogue;
static Layer layers[256];
static int n_layers, batch, in_c, in_h, in_w;
static cl_mem input, col;

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

/* A device buffer holding a file of exactly `count` floats. */
static cl_mem upload(const char* dir, const char* name, size_t count)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE* f = fopen(path, "rb");
    if (!f) {
        fail("cannot open %s", path);
    }
    float* h = malloc(count * sizeof(float));
    size_t got = fread(h, sizeof(float), count, f);
    int extra = fgetc(f) != EOF;
    fclose(f);
    if (got != count || extra) {
        fail("%s: expected %zu bytes", path, count * sizeof(float));
    }
    cl_int err;
    cl_mem m = clCreateBuffer(ctx, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR, count * sizeof(float), h, &err);
    CHECK(err);
    free(h);
    return m;
}

/* -B: NAME=V,... split by kernel family, as CLBlastOverrideParameters takes them. */
static void override_params(const char* spec)
{
    static const char* direct[] = {"WGD", "KWID", "MDIMAD", "MDIMCD", "NDIMBD", "NDIMCD", "PADA", "PADB", "VWMD", "VWND"};
    const char* xn[64];
    size_t xv[64], nx = 0;
    const char* dn[64];
    size_t dv[64], nd = 0;
    char* buf = strdup(spec);
    for (char* tok = strtok(buf, ", "); tok; tok = strtok(NULL, ", ")) {
        char* eq = strchr(tok, '=');
        if (!eq || nx == 64 || nd == 64) {
            fail("-B: expected NAME=V,... , got '%s'", spec);
        }
        *eq = 0;
        size_t value = strtoul(eq + 1, NULL, 10);
        if (!strcmp(tok, "XGEMM_MIN_INDIRECT_SIZE")) {
            const char* name = tok;
            if (CLBlastOverrideParameters(dev, "GemmRoutine", CLBlastPrecisionSingle, 1, &name, &value) != CLBlastSuccess) {
                fail("CLBlastOverrideParameters(GemmRoutine, %s) refused", tok);
            }
            continue;
        }
        int isDirect = 0;
        for (size_t i = 0; i < sizeof direct / sizeof direct[0]; i++) {
            isDirect |= !strcmp(tok, direct[i]);
        }
        if (isDirect) {
            dn[nd] = tok;
            dv[nd++] = value;
        } else {
            xn[nx] = tok;
            xv[nx++] = value;
        }
    }
    /* CLBlast wants every parameter of a kernel family at once; a partial set is refused. */
    if (nx > 0 && CLBlastOverrideParameters(dev, "Xgemm", CLBlastPrecisionSingle, nx, xn, xv) != CLBlastSuccess) {
        fail("CLBlastOverrideParameters(Xgemm) refused '%s' (every Xgemm parameter must be given)", spec);
    }
    if (nd > 0 && CLBlastOverrideParameters(dev, "XgemmDirect", CLBlastPrecisionSingle, nd, dn, dv) != CLBlastSuccess) {
        fail("CLBlastOverrideParameters(XgemmDirect) refused '%s' (every XgemmDirect parameter must be given)", spec);
    }
    free(buf);
}

static void pick_device(int index)
{
    cl_uint np = 0;
    if (clGetPlatformIDs(0, NULL, &np) != CL_SUCCESS || np == 0) {
        fail("no OpenCL platform");
    }
    cl_platform_id* ps = malloc(np * sizeof *ps);
    CHECK(clGetPlatformIDs(np, ps, NULL));
    int seen = 0;
    for (cl_uint p = 0; p < np; p++) {
        cl_uint nd = 0;
        if (clGetDeviceIDs(ps[p], CL_DEVICE_TYPE_ALL, 0, NULL, &nd) != CL_SUCCESS) {
            continue;
        }
        cl_device_id* ds = malloc(nd * sizeof *ds);
        CHECK(clGetDeviceIDs(ps[p], CL_DEVICE_TYPE_ALL, nd, ds, NULL));
        if (index < seen + (int) nd) {
            dev = ds[index - seen];
            free(ds);
            free(ps);
            return;
        }
        seen += nd;
        free(ds);
    }
    fail("no OpenCL device %d (%d found)", index, seen);
}

static void read_spec(const char* dir)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/spec.txt", dir);
    FILE* f = fopen(path, "r");
    if (!f) {
        fail("cannot open %s", path);
    }
    char line[512];
    int c = 0, h = 0, w = 0, have_input = 0;
    size_t col_floats = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        if (!line[0]) {
            continue;
        }
        if (!strncmp(line, "input ", 6)) {
            if (sscanf(line, "input %d %d %d %d", &batch, &c, &h, &w) != 4) {
                fail("bad spec line: %s", line);
            }
            in_c = c, in_h = h, in_w = w;
            have_input = 1;
            continue;
        }
        if (strncmp(line, "conv ", 5)) {
            fail("this driver runs convolutions only: %s", line);
        }
        if (!have_input || n_layers == (int) (sizeof layers / sizeof layers[0])) {
            fail("spec: no input line before the layers, or too many layers");
        }
        Layer* l = &layers[n_layers];
        int groups, n, oc, oh, ow;
        if (sscanf(line, "conv %d %d %d %d %d %d %d %d %d %d %d %d %d %d -> %d %d %d %d", &l->oc, &l->kh, &l->kw, &l->sh,
                   &l->sw, &l->dh, &l->dw, &l->pt, &l->pl, &l->pb, &l->pr, &groups, &l->bias, &l->relu, &n, &oc, &oh, &ow)
            != 18) {
            fail("bad spec line: %s", line);
        }
        if (groups != 1) {
            fail("L%d: groups %d (im2col + SGEMM here is for groups = 1)", n_layers, groups);
        }
        l->c = c, l->h = h, l->w = w;
        l->oh = (h + l->pt + l->pb - ((l->kh - 1) * l->dh + 1)) / l->sh + 1;
        l->ow = (w + l->pl + l->pr - ((l->kw - 1) * l->dw + 1)) / l->sw + 1;
        if (n != batch || oc != l->oc || oh != l->oh || ow != l->ow) {
            fail("L%d: the output is %d %d %d %d here, the spec says: %s", n_layers, batch, l->oc, l->oh, l->ow, line);
        }
        l->direct = l->kh == 1 && l->kw == 1 && l->sh == 1 && l->sw == 1 && l->pt == 0 && l->pl == 0 && l->pb == 0
                    && l->pr == 0;
        size_t k = (size_t) c * l->kh * l->kw, p = (size_t) l->oh * l->ow;
        if (!l->direct && k * p > col_floats) {
            col_floats = k * p;
        }
        char name[64];
        snprintf(name, sizeof name, "L%d_w.bin", n_layers);
        l->wbuf = upload(dir, name, (size_t) l->oc * k);
        if (l->bias) {
            snprintf(name, sizeof name, "L%d_b.bin", n_layers);
            l->bbuf = upload(dir, name, (size_t) l->oc);
        }
        cl_int err;
        l->y = clCreateBuffer(ctx, CL_MEM_READ_WRITE, (size_t) batch * l->oc * p * sizeof(float), NULL, &err);
        CHECK(err);
        c = l->oc, h = l->oh, w = l->ow;
        n_layers++;
    }
    fclose(f);
    if (!have_input || n_layers == 0) {
        fail("spec: no input or no layer");
    }
    input = upload(dir, "input.bin", (size_t) batch * in_c * in_h * in_w);
    if (col_floats > 0) {
        cl_int err;
        col = clCreateBuffer(ctx, CL_MEM_READ_WRITE, col_floats * sizeof(float), NULL, &err);
        CHECK(err);
    }
}

static void enqueue_layer(const Layer* l, cl_mem x)
{
    int k = l->c * l->kh * l->kw, p = l->oh * l->ow;
    for (int n = 0; n < batch; n++) {
        size_t xoff = (size_t) n * l->c * l->h * l->w;
        cl_mem b = x;
        size_t boff = xoff;
        if (!l->direct) {
            int a[] = {(int) xoff, l->c, l->h, l->w, l->kh, l->kw, l->sh, l->sw, l->dh, l->dw, l->pt, l->pl, l->oh, l->ow};
            CHECK(clSetKernelArg(im2col, 0, sizeof(cl_mem), &x));
            CHECK(clSetKernelArg(im2col, 1, sizeof(cl_mem), &col));
            for (int i = 0; i < 14; i++) {
                CHECK(clSetKernelArg(im2col, 2 + i, sizeof(int), &a[i]));
            }
            size_t g[2] = {(size_t) l->oh, (size_t) k};
            CHECK(clEnqueueNDRangeKernel(queue, im2col, 2, NULL, g, NULL, 0, NULL, NULL));
            b = col;
            boff = 0;
        }
        cl_command_queue q = queue;
        CLBlastStatusCode s = CLBlastSgemm(CLBlastLayoutRowMajor, CLBlastTransposeNo, CLBlastTransposeNo, l->oc, p, k, 1.0f,
                                           l->wbuf, 0, k, b, boff, p, 0.0f, l->y, (size_t) n * l->oc * p, p, &q, NULL);
        if (s != CLBlastSuccess) {
            fail("CLBlastSgemm(m=%d, n=%d, k=%d) returned %d", l->oc, p, k, s);
        }
    }
    if (l->bias || l->relu) {
        int a[] = {l->oc, p, l->bias, l->relu};
        CHECK(clSetKernelArg(epilogue, 0, sizeof(cl_mem), &l->y));
        /* Without a bias the kernel never reads b; any valid buffer stands in for it. */
        CHECK(clSetKernelArg(epilogue, 1, sizeof(cl_mem), l->bias ? &l->bbuf : &l->y));
        for (int i = 0; i < 4; i++) {
            CHECK(clSetKernelArg(epilogue, 2 + i, sizeof(int), &a[i]));
        }
        size_t g[2] = {(size_t) p, (size_t) batch * l->oc};
        CHECK(clEnqueueNDRangeKernel(queue, epilogue, 2, NULL, g, NULL, 0, NULL, NULL));
    }
}

static void iterate(void)
{
    cl_mem x = input;
    for (int i = 0; i < n_layers; i++) {
        enqueue_layer(&layers[i], x);
        x = layers[i].y;
    }
    CHECK(clFinish(queue));
}

/* The CLBlast library this process loaded, as its file name (it carries the version). */
static const char* library_name(void)
{
    Dl_info info;
    static char real[PATH_MAX];
    if (!dladdr((void*) CLBlastSgemm, &info) || !info.dli_fname || !realpath(info.dli_fname, real)) {
        return "libclblast";
    }
    const char* slash = strrchr(real, '/');
    return slash ? slash + 1 : real;
}

int main(int argc, char** argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: clblast_bench DIR [-d DEVICE] [-B NAME=V,...] (see the header of clblast_bench.c)\n");
        return 2;
    }
    const char* params = NULL;
    int index = 0;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "-d") && i + 1 < argc) {
            index = atoi(argv[++i]);
        } else if (!strcmp(argv[i], "-B") && i + 1 < argc) {
            params = argv[++i];
        } else {
            fail("unknown argument '%s' (usage: clblast_bench DIR [-d DEVICE] [-B NAME=V,...])", argv[i]);
        }
    }
    pick_device(index);
    cl_int err;
    ctx = clCreateContext(NULL, 1, &dev, NULL, NULL, &err);
    CHECK(err);
    queue = clCreateCommandQueue(ctx, dev, 0, &err);
    CHECK(err);
    if (params && params[0]) {
        override_params(params);
    }
    cl_program prog = clCreateProgramWithSource(ctx, 1, &KERNELS_SRC, NULL, &err);
    CHECK(err);
    if (clBuildProgram(prog, 1, &dev, "-cl-std=CL1.2", NULL, NULL) != CL_SUCCESS) {
        char log[8192];
        clGetProgramBuildInfo(prog, dev, CL_PROGRAM_BUILD_LOG, sizeof log, log, NULL);
        fail("building im2col and bias_relu failed: %s", log);
    }
    im2col = clCreateKernel(prog, "im2col", &err);
    CHECK(err);
    epilogue = clCreateKernel(prog, "bias_relu", &err);
    CHECK(err);
    read_spec(argv[1]);
    /* CLBlast compiles its GEMM kernel on first use (seconds on PoCL): that belongs to preparing
       the engine, as building kernels does for convkit, not to the first timed run. */
    iterate();
    char devname[256] = "";
    clGetDeviceInfo(dev, CL_DEVICE_NAME, sizeof devname, devname, NULL);
    printf("ready %s %s\n", library_name(), devname);
    fflush(stdout);

    char line[PATH_MAX + 16];
    while (fgets(line, sizeof line, stdin)) {
        line[strcspn(line, "\n")] = 0;
        int k;
        if (sscanf(line, "run %d", &k) == 1) {
            printf("ms");
            for (int i = 0; i < k; i++) {
                double t0 = now_ms();
                iterate();
                printf(" %.6f", now_ms() - t0);
            }
            printf("\n");
        } else if (!strncmp(line, "out ", 4)) {
            const Layer* last = &layers[n_layers - 1];
            size_t count = (size_t) batch * last->oc * last->oh * last->ow;
            float* h = malloc(count * sizeof(float));
            CHECK(clEnqueueReadBuffer(queue, last->y, CL_TRUE, 0, count * sizeof(float), h, 0, NULL, NULL));
            FILE* f = fopen(line + 4, "wb");
            int ok = f && fwrite(h, sizeof(float), count, f) == count;
            if (f) {
                ok &= fclose(f) == 0;
            }
            free(h);
            if (ok) {
                printf("ok\n");
            } else {
                printf("error cannot write %s\n", line + 4);
            }
        } else if (!strcmp(line, "quit")) {
            break;
        } else {
            printf("error unknown command: %s\n", line);
        }
        fflush(stdout);
    }
    return 0;
}
