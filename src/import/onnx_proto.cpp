// ONNX protobuf → OnnxGraph (plain data), with every size checked before it is trusted. The generated
// classes of Debian's libonnx (onnx-ml.pb.h) do the wire format; this file checks what the numbers say.
#include "import/onnx_graph.hpp"

#include <google/protobuf/io/coded_stream.h>
#include <onnx/onnx_pb.h>  // defines ONNX_API, then includes onnx-ml.pb.h (ONNX_ML=1)

#include <cstring>
#include <fstream>
#include <set>

#include "core/error.hpp"

namespace c1r {
namespace {

// Names go into configs, messages and JSON reports: bytes outside printable ASCII become '?' (exporters write
// ASCII names; a file's stray bytes must not break a report).
std::string clean(const std::string& name) {
    std::string out = name.substr(0, 512);
    for (char& c : out)
        if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) c = '?';
    return out;
}

[[noreturn]] void fail(const std::string& source, const std::string& place, const std::string& why) {
    throw Error(ErrorKind::input, source + ": " + place + ": " + why);
}

std::vector<int64_t> checked_dims(const google::protobuf::RepeatedField<int64_t>& dims, const std::string& source,
                                  const std::string& place, int64_t& elements) {
    if (dims.size() > kOnnxMaxRank)
        fail(source, place, "rank " + std::to_string(dims.size()) + " is above the limit " + std::to_string(kOnnxMaxRank));
    std::vector<int64_t> out;
    elements = 1;
    for (int64_t d : dims) {
        if (d < 0 || d > kOnnxMaxDim)
            fail(source, place, "dimension " + std::to_string(d) + " is outside [0, " + std::to_string(kOnnxMaxDim) + "]");
        out.push_back(d);
        if (d != 0 && elements > kOnnxMaxElements / d)
            fail(source, place, "more than " + std::to_string(kOnnxMaxElements) + " elements; refused");
        elements *= d;
    }
    return out;
}

template <typename T>
void copy_raw(const std::string& raw, int64_t n, std::vector<double>& out) {
    out.resize(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
        T v;
        std::memcpy(&v, raw.data() + i * static_cast<int64_t>(sizeof(T)), sizeof(T));  // little-endian host
        out[static_cast<size_t>(i)] = static_cast<double>(v);
    }
}

OnnxTensor convert_tensor(const onnx::TensorProto& t, const std::string& source, const std::string& place) {
    if (t.data_location() == onnx::TensorProto::EXTERNAL || t.external_data_size() > 0)
        fail(source, place, "its data is stored outside the file (external data); save the model with the weights "
                            "inside (onnx.save(model, path, save_as_external_data=False))");
    if (t.has_segment()) fail(source, place, "segmented tensors are not supported");
    OnnxTensor out;
    int64_t n = 0;
    out.dims = checked_dims(t.dims(), source, place, n);
    int64_t size = 0;  // bytes per element in raw_data
    using TP = onnx::TensorProto;
    const int type = t.data_type();
    switch (type) {
        case TP::FLOAT: size = 4; break;
        case TP::DOUBLE: size = 8; break;
        case TP::INT64: size = 8; out.integer = true; break;
        case TP::INT32: size = 4; out.integer = true; break;
        case TP::INT8: size = 1; out.integer = true; break;
        case TP::UINT8: size = 1; out.integer = true; break;
        case TP::BOOL: size = 1; out.integer = true; break;
        default:
            fail(source, place, "data type " + std::to_string(type) + " (" + TP::DataType_Name(type) +
                                    ") is not supported (float, double and integer tensors are)");
    }
    auto mismatch = [&](int64_t have, const char* what) {
        fail(source, place, std::string("holds ") + std::to_string(have) + " " + what + " but its shape needs " +
                                std::to_string(n) + (std::strcmp(what, "bytes") == 0 ? " elements of " + std::to_string(size) + " bytes" : ""));
    };
    if (t.has_raw_data()) {
        const std::string& raw = t.raw_data();
        if (static_cast<int64_t>(raw.size()) != n * size) mismatch(static_cast<int64_t>(raw.size()), "bytes");
        switch (type) {
            case TP::FLOAT: copy_raw<float>(raw, n, out.values); break;
            case TP::DOUBLE: copy_raw<double>(raw, n, out.values); break;
            case TP::INT64: copy_raw<int64_t>(raw, n, out.values); break;
            case TP::INT32: copy_raw<int32_t>(raw, n, out.values); break;
            case TP::INT8: copy_raw<int8_t>(raw, n, out.values); break;
            default: copy_raw<uint8_t>(raw, n, out.values); break;
        }
        return out;
    }
    auto take = [&](const auto& field) {
        if (field.size() != n) mismatch(field.size(), "values");
        out.values.assign(field.begin(), field.end());
    };
    switch (type) {
        case TP::FLOAT: take(t.float_data()); break;
        case TP::DOUBLE: take(t.double_data()); break;
        case TP::INT64: take(t.int64_data()); break;
        default: take(t.int32_data()); break;
    }
    return out;
}

OnnxValueInfo convert_value_info(const onnx::ValueInfoProto& v, const std::string& source, const std::string& place) {
    OnnxValueInfo info;
    info.name = clean(v.name());
    if (!v.has_type() || !v.type().has_tensor_type()) return info;
    const auto& tt = v.type().tensor_type();
    if (!tt.has_shape()) return info;
    info.has_shape = true;
    if (tt.shape().dim_size() > kOnnxMaxRank)
        fail(source, place, "rank " + std::to_string(tt.shape().dim_size()) + " is above the limit " +
                                std::to_string(kOnnxMaxRank));
    for (const auto& d : tt.shape().dim()) {
        if (d.has_dim_value()) {
            if (d.dim_value() < 0 || d.dim_value() > kOnnxMaxDim)
                fail(source, place, "dimension " + std::to_string(d.dim_value()) + " is outside [0, " +
                                        std::to_string(kOnnxMaxDim) + "]");
            info.dims.push_back(d.dim_value());
        } else {
            info.dims.push_back(-1);
        }
    }
    return info;
}

OnnxAttr convert_attr(const onnx::AttributeProto& a, const std::string& source, const std::string& place) {
    OnnxAttr out;
    using AP = onnx::AttributeProto;
    switch (a.type()) {
        case AP::FLOAT: out.kind = OnnxAttr::Kind::f; out.f = a.f(); break;
        case AP::INT: out.kind = OnnxAttr::Kind::i; out.i = a.i(); break;
        case AP::STRING: out.kind = OnnxAttr::Kind::s; out.s = a.s(); break;
        case AP::TENSOR:
            out.kind = OnnxAttr::Kind::t;
            out.t = std::make_shared<OnnxTensor>(convert_tensor(a.t(), source, place));
            break;
        case AP::FLOATS: out.kind = OnnxAttr::Kind::floats; out.floats.assign(a.floats().begin(), a.floats().end()); break;
        case AP::INTS: out.kind = OnnxAttr::Kind::ints; out.ints.assign(a.ints().begin(), a.ints().end()); break;
        case AP::STRINGS: out.kind = OnnxAttr::Kind::strings; break;
        default: out.kind = OnnxAttr::Kind::other; break;
    }
    return out;
}

template <typename Message>
void parse_limited(Message& message, const std::string& bytes, const std::string& source, const char* what) {
    if (static_cast<int64_t>(bytes.size()) > kOnnxMaxFileBytes)
        fail(source, what, "larger than " + std::to_string(kOnnxMaxFileBytes) + " bytes; refused");
    google::protobuf::io::CodedInputStream stream(reinterpret_cast<const uint8_t*>(bytes.data()),
                                                  static_cast<int>(bytes.size()));
    stream.SetTotalBytesLimit(static_cast<int>(kOnnxMaxFileBytes));
    stream.SetRecursionLimit(64);
    if (!message.ParseFromCodedStream(&stream) || !stream.ConsumedEntireMessage())
        fail(source, what, "not a valid ONNX protobuf (truncated or not an ONNX file)");
}

// Kahn's algorithm, keeping file order among ready nodes; a node left over sits on a cycle.
std::vector<OnnxNode> sort_nodes(std::vector<OnnxNode> nodes, const std::set<std::string>& available,
                                 const std::string& source) {
    std::map<std::string, size_t> producer;
    for (size_t i = 0; i < nodes.size(); ++i)
        for (const auto& o : nodes[i].outputs) {
            if (o.empty()) continue;
            if (available.count(o) || !producer.emplace(o, i).second)
                fail(source, "node " + nodes[i].name, "output \"" + o + "\" is produced twice");
        }
    std::vector<size_t> waiting(nodes.size(), 0);
    std::vector<std::vector<size_t>> readers(nodes.size());
    for (size_t i = 0; i < nodes.size(); ++i)
        for (const auto& in : nodes[i].inputs) {
            if (in.empty() || available.count(in)) continue;
            auto it = producer.find(in);
            if (it == producer.end())
                fail(source, "node " + nodes[i].name, "reads \"" + in + "\", which no node, input or initializer gives");
            ++waiting[i];
            readers[it->second].push_back(i);
        }
    std::set<size_t> ready;
    for (size_t i = 0; i < nodes.size(); ++i)
        if (waiting[i] == 0) ready.insert(i);
    std::vector<OnnxNode> sorted;
    while (!ready.empty()) {
        size_t i = *ready.begin();
        ready.erase(ready.begin());
        sorted.push_back(nodes[i]);
        for (size_t r : readers[i])
            if (--waiting[r] == 0) ready.insert(r);
    }
    if (sorted.size() != nodes.size()) {
        for (size_t i = 0; i < nodes.size(); ++i)
            if (waiting[i] != 0) fail(source, "node " + nodes[i].name, "is on a cycle of the graph");
    }
    return sorted;
}

}  // namespace

std::string read_onnx_bytes(const std::string& path, const std::string& source) {
    std::ifstream file(path, std::ios::binary | std::ios::ate);
    if (!file) throw Error(ErrorKind::input, source + ": cannot open the file");
    std::streamoff size = file.tellg();
    if (size < 0) throw Error(ErrorKind::input, source + ": cannot read the file");
    if (size > kOnnxMaxFileBytes)
        throw Error(ErrorKind::input, source + ": larger than " + std::to_string(kOnnxMaxFileBytes) + " bytes; refused");
    std::string bytes(static_cast<size_t>(size), '\0');
    file.seekg(0);
    if (!file.read(bytes.data(), size)) throw Error(ErrorKind::input, source + ": read error");
    return bytes;
}

OnnxTensor parse_onnx_tensor(const std::string& bytes, const std::string& source) {
    onnx::TensorProto t;
    parse_limited(t, bytes, source, "tensor");
    return convert_tensor(t, source, "tensor " + (t.name().empty() ? std::string("(unnamed)") : clean(t.name())));
}

OnnxGraph parse_onnx_model(const std::string& bytes, const std::string& source) {
    onnx::ModelProto model;
    parse_limited(model, bytes, source, "model");
    OnnxGraph g;
    if (!model.has_graph()) fail(source, "model", "holds no graph (not an ONNX model file)");
    bool default_domain = false;
    for (const auto& o : model.opset_import()) {
        if (o.domain().empty() || o.domain() == "ai.onnx") {
            default_domain = true;
            g.opset = o.version();
        }
    }
    if (!default_domain) fail(source, "opset_import", "names no opset of the default ONNX domain");
    if (g.opset > kOnnxMaxOpset || g.opset < 1)
        fail(source, "opset_import", "opset " + std::to_string(g.opset) + " is not supported (1 to " +
                                         std::to_string(kOnnxMaxOpset) + "); export with opset_version=" +
                                         std::to_string(kOnnxMaxOpset) + " or lower");
    const onnx::GraphProto& graph = model.graph();
    g.name = graph.name();
    if (graph.node_size() > kOnnxMaxNodes)
        fail(source, "graph", std::to_string(graph.node_size()) + " nodes is above the limit " + std::to_string(kOnnxMaxNodes));
    if (graph.sparse_initializer_size() > 0) fail(source, "graph", "sparse initializers are not supported");
    int64_t total = 0;
    for (const auto& t : graph.initializer()) {
        const std::string place = "initializer \"" + clean(t.name()) + "\"";
        OnnxTensor tensor = convert_tensor(t, source, place);
        total += static_cast<int64_t>(tensor.values.size());
        if (total > kOnnxMaxElements) fail(source, place, "initializers hold more than " + std::to_string(kOnnxMaxElements) + " values");
        if (!g.initializers.emplace(clean(t.name()), std::move(tensor)).second) fail(source, place, "given twice");
    }
    std::set<std::string> available;
    for (const auto& [name, _] : g.initializers) available.insert(name);
    for (int i = 0; i < graph.input_size(); ++i) {
        const auto& v = graph.input(i);
        if (g.initializers.count(clean(v.name()))) continue;  // old exporters list initializers as inputs too
        g.inputs.push_back(convert_value_info(v, source, "input \"" + clean(v.name()) + "\""));
        available.insert(g.inputs.back().name);
    }
    for (const auto& v : graph.output()) g.outputs.push_back(convert_value_info(v, source, "output \"" + clean(v.name()) + "\""));
    for (const auto& v : graph.value_info())
        g.value_info[clean(v.name())] = convert_value_info(v, source, "value_info \"" + clean(v.name()) + "\"");
    std::vector<OnnxNode> nodes;
    std::set<std::string> names;
    for (int i = 0; i < graph.node_size(); ++i) {
        const auto& n = graph.node(i);
        OnnxNode node;
        node.index = static_cast<size_t>(i);
        node.op = clean(n.op_type());
        node.domain = clean(n.domain());
        node.name = n.name().empty() ? node.op + "_" + std::to_string(i) : clean(n.name());
        if (!names.insert(node.name).second) node.name += "_" + std::to_string(i);
        const std::string place = "node " + node.name;
        for (const auto& in : n.input()) node.inputs.push_back(clean(in));
        for (const auto& out : n.output()) node.outputs.push_back(clean(out));
        for (const auto& a : n.attribute()) node.attrs[a.name()] = convert_attr(a, source, place + " attribute " + a.name());
        nodes.push_back(std::move(node));
    }
    g.nodes = sort_nodes(std::move(nodes), available, source);
    for (const auto& o : g.outputs) {
        bool made = available.count(o.name) > 0;
        for (const auto& n : g.nodes)
            for (const auto& out : n.outputs) made = made || out == o.name;
        if (!made) fail(source, "output \"" + o.name + "\"", "no node produces it");
    }
    return g;
}

}  // namespace c1r
