/*
 * clreplay: launches convkit's OpenCL kernels through the OpenCL C API, exactly as convkit's Java
 * path launched them, to measure what the Java binding adds (native-bench's BindingOverhead runs
 * both in the same run and compares).
 *
 * Input: a replay spec written by org.convkit.backend.opencl.ClTrace (per launch: the program's
 * inlined source, build options, entry, global and local sizes, arguments). Buffers are created
 * once by id and filled with 0.5f; programs are built once per source and options.
 *
 * usage:  clreplay <device-index> <warmup> <iterations> <spec-file>
 * output: one JSON object on stdout: the device, the launches per iteration and the wall time of
 *         each measured iteration in milliseconds (every launch of the spec, then clFinish).
 * Device index: OpenCL devices of every platform, in platform order, as convkit numbers
 * opencl:0, opencl:1, ...
 */
#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_LAUNCHES 64
#define MAX_ARGS 48
#define MAX_BUFFERS 128

typedef struct {
    char kind; /* b buffer, n null, i int, f float, l local */
    long value;
    int buffer;
} arg_t;

typedef struct {
    char *source;
    char *options;
    char entry[256];
    int dims;
    size_t global[3];
    int local_dims;
    size_t local[3];
    int nargs;
    arg_t args[MAX_ARGS];
    cl_program program;
    cl_kernel kernel;
} launch_t;

static void die(const char *what, cl_int err) {
    fprintf(stderr, "clreplay: %s failed (%d)\n", what, (int) err);
    exit(2);
}

static char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        exit(2);
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t) n + 1);
    if (!buf || fread(buf, 1, (size_t) n, f) != (size_t) n) {
        fprintf(stderr, "clreplay: cannot read %s\n", path);
        exit(2);
    }
    buf[n] = 0;
    fclose(f);
    *len = (size_t) n;
    return buf;
}

/* The next line of the spec (NUL-terminated in place); advances *p past it. */
static char *next_line(char **p) {
    char *start = *p;
    char *nl = strchr(start, '\n');
    if (!nl) {
        fprintf(stderr, "clreplay: truncated spec\n");
        exit(2);
    }
    *nl = 0;
    *p = nl + 1;
    return start;
}

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: clreplay <device-index> <warmup> <iterations> <spec-file>\n");
        return 2;
    }
    int want = atoi(argv[1]);
    int warmup = atoi(argv[2]);
    int iterations = atoi(argv[3]);
    size_t len;
    char *spec = read_file(argv[4], &len);

    /* Parse. */
    static launch_t launches[MAX_LAUNCHES];
    size_t buffer_bytes[MAX_BUFFERS] = {0};
    int nlaunch = 0;
    char *p = spec;
    launch_t *cur = &launches[0];
    memset(cur, 0, sizeof *cur);
    while (p < spec + len) {
        char *line = next_line(&p);
        if (strncmp(line, "source ", 7) == 0) {
            size_t n = strtoul(line + 7, NULL, 10);
            cur->source = malloc(n + 1);
            memcpy(cur->source, p, n);
            cur->source[n] = 0;
            p += n + 1;
        } else if (strncmp(line, "options ", 8) == 0) {
            cur->options = strdup(line + 8);
        } else if (strncmp(line, "entry ", 6) == 0) {
            snprintf(cur->entry, sizeof cur->entry, "%s", line + 6);
        } else if (strncmp(line, "global ", 7) == 0) {
            char *q = line + 7;
            cur->dims = (int) strtol(q, &q, 10);
            for (int d = 0; d < cur->dims; d++) cur->global[d] = strtoul(q, &q, 10);
        } else if (strncmp(line, "local ", 6) == 0) {
            char *q = line + 6;
            cur->local_dims = (int) strtol(q, &q, 10);
            for (int d = 0; d < cur->local_dims; d++) cur->local[d] = strtoul(q, &q, 10);
        } else if (strncmp(line, "arg ", 4) == 0) {
            arg_t *a = &cur->args[cur->nargs++];
            char kind[16];
            long v1 = 0, v2 = 0;
            sscanf(line + 4, "%15s", kind);
            a->kind = kind[0] == 'b' ? 'b' : kind[0] == 'n' ? 'n' : kind[0] == 'i' ? 'i' : kind[0] == 'f' ? 'f' : 'l';
            if (a->kind == 'b') {
                sscanf(line + 4, "%*s %ld %ld", &v1, &v2);
                a->buffer = (int) v1;
                a->value = v2;
                if (v1 < 0 || v1 >= MAX_BUFFERS) { fprintf(stderr, "clreplay: buffer id %ld\n", v1); return 2; }
                if ((size_t) v2 > buffer_bytes[v1]) buffer_bytes[v1] = (size_t) v2;
            } else if (a->kind == 'f') {
                unsigned int bits;
                sscanf(line + 4, "%*s %x", &bits);
                a->value = bits;
            } else if (a->kind != 'n') {
                sscanf(line + 4, "%*s %ld", &v1);
                a->value = v1;
            }
        } else if (strcmp(line, "launch") == 0) {
            if (++nlaunch >= MAX_LAUNCHES) { fprintf(stderr, "clreplay: too many launches\n"); return 2; }
            cur = &launches[nlaunch];
            memset(cur, 0, sizeof *cur);
        }
    }

    /* The device convkit calls opencl:<want>. */
    cl_uint np;
    cl_int err = clGetPlatformIDs(0, NULL, &np);
    if (err != CL_SUCCESS || np == 0) die("clGetPlatformIDs", err);
    cl_platform_id *platforms = malloc(np * sizeof *platforms);
    clGetPlatformIDs(np, platforms, NULL);
    cl_device_id device = NULL;
    cl_platform_id platform = NULL;
    int index = 0;
    for (cl_uint i = 0; i < np && !device; i++) {
        cl_uint nd = 0;
        if (clGetDeviceIDs(platforms[i], CL_DEVICE_TYPE_ALL, 0, NULL, &nd) != CL_SUCCESS) continue;
        cl_device_id *ds = malloc(nd * sizeof *ds);
        clGetDeviceIDs(platforms[i], CL_DEVICE_TYPE_ALL, nd, ds, NULL);
        for (cl_uint j = 0; j < nd; j++, index++) {
            if (index == want) { device = ds[j]; platform = platforms[i]; }
        }
        free(ds);
    }
    if (!device) { fprintf(stderr, "clreplay: no OpenCL device %d\n", want); return 2; }
    char name[256] = {0};
    clGetDeviceInfo(device, CL_DEVICE_NAME, sizeof name - 1, name, NULL);
    cl_context_properties props[] = {CL_CONTEXT_PLATFORM, (cl_context_properties) platform, 0};
    cl_context ctx = clCreateContext(props, 1, &device, NULL, NULL, &err);
    if (err != CL_SUCCESS) die("clCreateContext", err);
    cl_command_queue queue = clCreateCommandQueue(ctx, device, 0, &err);
    if (err != CL_SUCCESS) die("clCreateCommandQueue", err);

    cl_mem buffers[MAX_BUFFERS] = {0};
    for (int b = 0; b < MAX_BUFFERS; b++) {
        if (!buffer_bytes[b]) continue;
        buffers[b] = clCreateBuffer(ctx, CL_MEM_READ_WRITE, buffer_bytes[b], NULL, &err);
        if (err != CL_SUCCESS) die("clCreateBuffer", err);
        float half = 0.5f;
        err = clEnqueueFillBuffer(queue, buffers[b], &half, sizeof half, 0, buffer_bytes[b] & ~(size_t) 3, 0, NULL, NULL);
        if (err != CL_SUCCESS) die("clEnqueueFillBuffer", err);
    }

    for (int l = 0; l < nlaunch; l++) {
        launch_t *x = &launches[l];
        /* One program per source and options, as convkit's program cache. */
        for (int k = 0; k < l && !x->program; k++) {
            if (strcmp(launches[k].source, x->source) == 0 && strcmp(launches[k].options, x->options) == 0) {
                x->program = launches[k].program;
            }
        }
        if (!x->program) {
            const char *src = x->source;
            x->program = clCreateProgramWithSource(ctx, 1, &src, NULL, &err);
            if (err != CL_SUCCESS) die("clCreateProgramWithSource", err);
            err = clBuildProgram(x->program, 1, &device, x->options, NULL, NULL);
            if (err != CL_SUCCESS) die("clBuildProgram", err);
        }
        x->kernel = clCreateKernel(x->program, x->entry, &err);
        if (err != CL_SUCCESS) die("clCreateKernel", err);
        for (int a = 0; a < x->nargs; a++) {
            arg_t *g = &x->args[a];
            cl_int e;
            if (g->kind == 'b') {
                e = clSetKernelArg(x->kernel, a, sizeof(cl_mem), &buffers[g->buffer]);
            } else if (g->kind == 'n') {
                e = clSetKernelArg(x->kernel, a, sizeof(cl_mem), NULL);
            } else if (g->kind == 'i') {
                cl_int v = (cl_int) g->value;
                e = clSetKernelArg(x->kernel, a, sizeof v, &v);
            } else if (g->kind == 'f') {
                unsigned int bits = (unsigned int) g->value;
                float v;
                memcpy(&v, &bits, sizeof v);
                e = clSetKernelArg(x->kernel, a, sizeof v, &v);
            } else {
                e = clSetKernelArg(x->kernel, a, (size_t) g->value, NULL);
            }
            if (e != CL_SUCCESS) die("clSetKernelArg", e);
        }
    }
    clFinish(queue);

    printf("{\"device\": \"%s\", \"launches\": %d, \"ms\": [", name, nlaunch);
    for (int it = 0; it < warmup + iterations; it++) {
        double t0 = now_ms();
        for (int l = 0; l < nlaunch; l++) {
            launch_t *x = &launches[l];
            err = clEnqueueNDRangeKernel(queue, x->kernel, (cl_uint) x->dims, NULL, x->global,
                    x->local_dims ? x->local : NULL, 0, NULL, NULL);
            if (err != CL_SUCCESS) die("clEnqueueNDRangeKernel", err);
        }
        err = clFinish(queue);
        if (err != CL_SUCCESS) die("clFinish", err);
        double t1 = now_ms();
        if (it >= warmup) printf("%s%.6f", it > warmup ? ", " : "", t1 - t0);
    }
    printf("]}\n");
    return 0;
}
