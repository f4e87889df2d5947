// onednn_bench: runs one convkit benchmark workload with oneDNN (2.x API, CPU engine) so that the
// peers suite of `./convkit bench` can time it beside convkit on the same weights and input.
//
// Usage: onednn_bench DIR
//   DIR/spec.txt   one line per item, written by org.convkit.bench.peers.OnednnRunner:
//                    input N C H W
//                    conv OC KH KW SH SW DH DW PT PL PB PR GROUPS BIAS RELU -> N C H W
//                    pool max|avg_incl|avg_excl KH KW SH SW DH DW PT PL PB PR -> N C H W
//                    lrn SIZE ALPHA BETA K -> N C H W
//                  (dilations are convkit's: 1 = dense; pads top, left, bottom, right)
//   DIR/input.bin  the input, NCHW float32 (host byte order)
//   DIR/L<i>_w.bin, DIR/L<i>_b.bin  layer i's weights (OIHW, groups leading: GOIHW) and bias
// Then commands on stdin, one per line, each answered on one stdout line:
//   run K      K timed iterations: "ms t1 ... tK"
//   out PATH   writes the output of the last iteration, NCHW float32: "ok"
//   quit       (or end of input)
// On start it prints "ready <oneDNN version> <implementation of each primitive>", or "error ..."
// and exits 1.
//
// What one iteration does: the caller's NCHW input is reordered into the layout oneDNN picks for
// the first convolution (format "any"), the layers run in the layouts they chose (a reorder
// between two only where they differ), and the result is reordered back into the caller's NCHW
// output. Reorders of activations are timed (the input and output are NCHW, as convkit's);
// weights are reordered once at setup, as any inference engine does. Pooling and LRN take the
// layout of their input. Threads: OpenMP's (OMP_NUM_THREADS, set by the harness).
#include <oneapi/dnnl/dnnl.hpp>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

using namespace dnnl;
using tag = memory::format_tag;
using dt = memory::data_type;

namespace {

std::vector<float> read_floats(const std::string &path, size_t count) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot open " + path);
    std::vector<float> v(count);
    in.read(reinterpret_cast<char *>(v.data()), static_cast<std::streamsize>(count * sizeof(float)));
    if (static_cast<size_t>(in.gcount()) != count * sizeof(float))
        throw std::runtime_error(path + ": expected " + std::to_string(count * sizeof(float)) + " bytes");
    return v;
}

size_t product(const memory::dims &d) {
    size_t n = 1;
    for (auto x : d) n *= static_cast<size_t>(x);
    return n;
}

// One step of an iteration: a primitive and its arguments.
struct Step {
    primitive prim;
    std::unordered_map<int, memory> args;
};

struct Net {
    engine eng{engine::kind::cpu, 0};
    stream strm{eng};
    std::vector<float> input, output;
    memory user_in, user_out;
    std::vector<Step> steps;
    std::vector<memory> keep;  // weights and biases in oneDNN's layouts
    std::string impls;

    // Appends a reorder from cur to desc when the layouts differ; returns the memory in desc.
    memory to(const memory &cur, const memory::desc &desc) {
        if (cur.get_desc() == desc) return cur;
        memory m(desc, eng);
        steps.push_back({reorder(cur, m), {{DNNL_ARG_FROM, cur}, {DNNL_ARG_TO, m}}});
        return m;
    }

    void build(const std::string &dir) {
        std::ifstream spec(dir + "/spec.txt");
        if (!spec) throw std::runtime_error("cannot open " + dir + "/spec.txt");
        std::string line;
        memory cur;
        memory::dims cur_dims;
        int layer = 0;
        while (std::getline(spec, line)) {
            if (line.empty()) continue;
            std::istringstream s(line);
            std::string kind;
            s >> kind;
            if (kind == "input") {
                memory::dim n, c, h, w;
                s >> n >> c >> h >> w;
                cur_dims = {n, c, h, w};
                input = read_floats(dir + "/input.bin", product(cur_dims));
                user_in = memory({cur_dims, dt::f32, tag::nchw}, eng, input.data());
                cur = user_in;
                continue;
            }
            std::string arrow;
            memory::dims out_dims(4);
            auto read_out = [&]() {
                s >> arrow >> out_dims[0] >> out_dims[1] >> out_dims[2] >> out_dims[3];
                if (arrow != "->" || !s) throw std::runtime_error("bad spec line: " + line);
            };
            std::string name = "L" + std::to_string(layer);
            if (kind == "conv") {
                memory::dim oc, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr, groups;
                int bias, relu;
                s >> oc >> kh >> kw >> sh >> sw >> dh >> dw >> pt >> pl >> pb >> pr >> groups >> bias >> relu;
                read_out();
                memory::dim ic = cur_dims[1];
                memory::dims wdims = groups == 1 ? memory::dims{oc, ic, kh, kw}
                                                 : memory::dims{groups, oc / groups, ic / groups, kh, kw};
                tag wtag = groups == 1 ? tag::oihw : tag::goihw;
                memory::desc src_any(cur_dims, dt::f32, tag::any), dst_any(out_dims, dt::f32, tag::any);
                memory::desc w_any(wdims, dt::f32, tag::any), b_md({oc}, dt::f32, tag::x);
                memory::dims strides{sh, sw}, dil{dh - 1, dw - 1}, pad_l{pt, pl}, pad_r{pb, pr};
                auto d = bias ? convolution_forward::desc(prop_kind::forward_inference, algorithm::convolution_direct,
                                                          src_any, w_any, b_md, dst_any, strides, dil, pad_l, pad_r)
                              : convolution_forward::desc(prop_kind::forward_inference, algorithm::convolution_direct,
                                                          src_any, w_any, dst_any, strides, dil, pad_l, pad_r);
                primitive_attr attr;
                if (relu) {
                    post_ops po;
                    po.append_eltwise(1.f, algorithm::eltwise_relu, 0.f, 0.f);
                    attr.set_post_ops(po);
                }
                convolution_forward::primitive_desc pd(d, attr, eng);
                // Weights: read once, reordered once, outside the timed iterations.
                std::vector<float> wv = read_floats(dir + "/" + name + "_w.bin", product(wdims));
                memory user_w({wdims, dt::f32, wtag}, eng, wv.data());
                memory w(pd.weights_desc(), eng);
                reorder(user_w, w).execute(strm, user_w, w);
                strm.wait();
                keep.push_back(w);
                memory src = to(cur, pd.src_desc());
                memory dst(pd.dst_desc(), eng);
                Step step{convolution_forward(pd), {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, w}, {DNNL_ARG_DST, dst}}};
                if (bias) {
                    memory b(b_md, eng);
                    std::vector<float> bv = read_floats(dir + "/" + name + "_b.bin", static_cast<size_t>(oc));
                    std::copy(bv.begin(), bv.end(), static_cast<float *>(b.get_data_handle()));
                    keep.push_back(b);
                    step.args.insert({DNNL_ARG_BIAS, b});
                }
                steps.push_back(step);
                impls += (impls.empty() ? "" : ",") + std::string("conv=") + pd.impl_info_str();
                cur = dst;
            } else if (kind == "pool") {
                std::string mode;
                memory::dim kh, kw, sh, sw, dh, dw, pt, pl, pb, pr;
                s >> mode >> kh >> kw >> sh >> sw >> dh >> dw >> pt >> pl >> pb >> pr;
                read_out();
                algorithm alg = mode == "max"        ? algorithm::pooling_max
                                : mode == "avg_incl" ? algorithm::pooling_avg_include_padding
                                                     : algorithm::pooling_avg_exclude_padding;
                memory::desc dst_any(out_dims, dt::f32, tag::any);
                pooling_v2_forward::desc d(prop_kind::forward_inference, alg, cur.get_desc(), dst_any, {sh, sw},
                                           {kh, kw}, {dh - 1, dw - 1}, {pt, pl}, {pb, pr});
                pooling_v2_forward::primitive_desc pd(d, eng);
                memory src = to(cur, pd.src_desc());
                memory dst(pd.dst_desc(), eng);
                steps.push_back({pooling_v2_forward(pd), {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}}});
                impls += (impls.empty() ? "" : ",") + std::string("pool=") + pd.impl_info_str();
                cur = dst;
            } else if (kind == "lrn") {
                memory::dim size;
                float alpha, beta, k;
                s >> size >> alpha >> beta >> k;
                read_out();
                lrn_forward::desc d(prop_kind::forward_inference, algorithm::lrn_across_channels, cur.get_desc(), size,
                                    alpha, beta, k);
                lrn_forward::primitive_desc pd(d, eng);
                memory src = to(cur, pd.src_desc());
                memory dst(pd.dst_desc(), eng);
                steps.push_back({lrn_forward(pd), {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}}});
                impls += (impls.empty() ? "" : ",") + std::string("lrn=") + pd.impl_info_str();
                cur = dst;
            } else {
                throw std::runtime_error("unknown spec item: " + line);
            }
            memory::dims got = cur.get_desc().dims();
            if (got != out_dims) throw std::runtime_error(name + ": oneDNN's output dims differ from convkit's: " + line);
            cur_dims = out_dims;
            layer++;
        }
        if (!cur) throw std::runtime_error("spec has no input");
        output.assign(product(cur_dims), 0.f);
        user_out = memory({cur_dims, dt::f32, tag::nchw}, eng, output.data());
        if (cur.get_desc() == user_out.get_desc()) {
            // The last layer writes NCHW itself: point it at the caller's output.
            for (auto &a : steps.back().args)
                if (a.first == DNNL_ARG_DST || a.first == DNNL_ARG_TO) a.second = user_out;
        } else {
            steps.push_back({reorder(cur, user_out), {{DNNL_ARG_FROM, cur}, {DNNL_ARG_TO, user_out}}});
        }
    }

    void iterate() {
        for (auto &st : steps) st.prim.execute(strm, st.args);
        strm.wait();
    }
};

}  // namespace

int main(int argc, char **argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: onednn_bench DIR (see the header of onednn_bench.cpp)\n");
        return 2;
    }
    Net net;
    try {
        net.build(argv[1]);
    } catch (const std::exception &e) {
        std::cout << "error " << e.what() << std::endl;
        return 1;
    }
    const dnnl_version_t *v = dnnl_version();
    std::cout << "ready " << v->major << "." << v->minor << "." << v->patch << " " << net.impls << std::endl;
    std::string line;
    while (std::getline(std::cin, line)) {
        std::istringstream s(line);
        std::string cmd;
        s >> cmd;
        if (cmd == "run") {
            int k = 0;
            s >> k;
            std::ostringstream out;
            out << "ms";
            for (int i = 0; i < k; i++) {
                auto t0 = std::chrono::steady_clock::now();
                net.iterate();
                auto t1 = std::chrono::steady_clock::now();
                out << " " << std::chrono::duration<double, std::milli>(t1 - t0).count();
            }
            std::cout << out.str() << std::endl;
        } else if (cmd == "out") {
            std::string path;
            s >> path;
            std::ofstream f(path, std::ios::binary);
            f.write(reinterpret_cast<const char *>(net.output.data()),
                    static_cast<std::streamsize>(net.output.size() * sizeof(float)));
            std::cout << (f ? "ok" : "error cannot write " + path) << std::endl;
        } else if (cmd == "quit") {
            break;
        } else {
            std::cout << "error unknown command: " << line << std::endl;
        }
    }
    return 0;
}
