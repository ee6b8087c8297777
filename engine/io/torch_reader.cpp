#include "io/torch_reader.h"

#include "core/error.h"
#include "io/mapped_file.h"
#include "io/pickle.h"
#include "io/zip_archive.h"

#include <algorithm>
#include <map>
#include <set>
#include <unordered_map>

namespace qs {
namespace {

using pickle::Value;
using Kind = Value::Kind;

constexpr std::string_view kDataPkl = "data.pkl";
constexpr int kMaxDepth = 256;

// torch.save's legacy storage classes, which also give the tensors' element types.
struct StorageClass
{
    const char* global;
    DType dtype;
    const char* torchName; // the tensors' torch.dtype, shown as their stored type
};
constexpr StorageClass kStorageClasses[] = {
    {"torch.FloatStorage", DType::F32, "float32"},
    {"torch.HalfStorage", DType::F16, "float16"},
    {"torch.BFloat16Storage", DType::BF16, "bfloat16"},
    {"torch.DoubleStorage", DType::F64, "float64"},
    {"torch.LongStorage", DType::I64, "int64"},
    {"torch.IntStorage", DType::I32, "int32"},
    {"torch.ShortStorage", DType::I16, "int16"},
    {"torch.CharStorage", DType::I8, "int8"},
    {"torch.ByteStorage", DType::U8, "uint8"},
    {"torch.BoolStorage", DType::BOOL, "bool"},
};

constexpr const char* kRebuildTensorV2 = "torch._utils._rebuild_tensor_v2";
constexpr const char* kRebuildTensor = "torch._utils._rebuild_tensor";
constexpr const char* kRebuildParameter = "torch._utils._rebuild_parameter";

// Everything a state dict (or a checkpoint dict around one) needs, and nothing that runs code.
const std::set<std::string, std::less<>>& allowedGlobals()
{
    static const auto allowed = [] {
        std::set<std::string, std::less<>> s{kRebuildTensorV2, kRebuildTensor, kRebuildParameter,
                                             "collections.OrderedDict", "torch.device"};
        for (const auto& c : kStorageClasses)
            s.insert(c.global);
        // torch.dtype values pickle as references to these names.
        for (const auto& c : kStorageClasses)
            s.insert(std::string("torch.") + c.torchName);
        return s;
    }();
    return allowed;
}

bool isDataPkl(std::string_view name)
{
    return name == kDataPkl || (name.size() > kDataPkl.size() && name.ends_with(kDataPkl) &&
                                name[name.size() - kDataPkl.size() - 1] == '/');
}

// The archive's data.pkl: torch.save puts every record under one top-level folder.
const ZipMember* findDataPkl(const ZipArchive& zip)
{
    const ZipMember* best = nullptr;
    for (const auto& m : zip.members())
        if (isDataPkl(m.name) && (!best || m.name.size() < best->name.size())) best = &m;
    return best;
}

std::string text(std::span<const std::byte> b)
{
    return {reinterpret_cast<const char*>(b.data()), b.size()};
}

std::string trimmed(std::string s)
{
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' '))
        s.pop_back();
    return s;
}

class Loader
{
public:
    Loader(const std::string& path, const ZipArchive& zip, std::string prefix, bool bigEndian,
           Model& model)
        : m_path(path), m_zip(zip), m_prefix(std::move(prefix)), m_bigEndian(bigEndian),
          m_model(model)
    {
    }

    void load(const pickle::Tree& tree, std::uint64_t pickleBytes)
    {
        // Values shared through the memo can form a graph with far more paths than values; a
        // real checkpoint has a few visits per value and names about as long as its pickle.
        m_maxVisits = (std::size_t{1} << 16) + 8 * tree.size();
        m_maxOutput = (std::uint64_t{64} << 20) + 16 * pickleBytes;
        walk(*tree.root(), "", 0);
    }

private:
    struct Storage
    {
        DType dtype;
        std::string type; // the storage class as the pickle names it, without "torch."
        const char* torchName;
        int fileIndex;
        std::uint64_t offset; // of the member's data in that file
        std::int64_t numel;
    };

    const std::string& m_path;
    const ZipArchive& m_zip;
    std::string m_prefix;
    bool m_bigEndian;
    Model& m_model;
    std::map<std::string, Storage> m_storages;
    std::set<std::string> m_names;
    std::unordered_map<const Value*, bool> m_holdsTensor;
    std::size_t m_visits = 0, m_maxVisits = 0;
    std::uint64_t m_output = 0, m_maxOutput = 0; // bytes of names and metadata text

    [[noreturn]] void fail(const std::string& what) const { throw Error(m_path + ": " + what); }
    [[noreturn]] void failTensor(const std::string& name, const std::string& what) const
    {
        fail("tensor '" + name + "': " + what);
    }

    void visit(int depth)
    {
        if (depth > kMaxDepth)
            fail("checkpoint values are nested deeper than " + std::to_string(kMaxDepth) +
                 " levels");
        if (++m_visits > m_maxVisits)
            fail("checkpoint structure is too large to list (values shared or repeated more "
                 "than " +
                 std::to_string(m_maxVisits) + " times)");
    }

    void output(std::uint64_t bytes)
    {
        m_output += bytes;
        if (m_output > m_maxOutput)
            fail("checkpoint names and values would take more than " + std::to_string(m_maxOutput) +
                 " bytes");
    }

    static bool isTensor(const Value& v)
    {
        if (v.kind != Kind::Call) return false;
        const Value& f = *v.callable();
        return f.isGlobal(kRebuildTensorV2) || f.isGlobal(kRebuildTensor) ||
               f.isGlobal(kRebuildParameter);
    }

    bool holdsTensor(const Value& v, int depth)
    {
        if (isTensor(v)) return true;
        if (v.kind != Kind::Dict && v.kind != Kind::List && v.kind != Kind::Tuple) return false;
        const auto [it, fresh] = m_holdsTensor.try_emplace(&v, false); // false while in progress
        if (!fresh) return it->second;
        visit(depth);
        bool found = false;
        for (const auto& [k, x] : v.entries)
            found = found || holdsTensor(*x, depth + 1);
        for (const Value* x : v.items)
            found = found || holdsTensor(*x, depth + 1);
        m_holdsTensor[&v] = found;
        return found;
    }

    static std::string join(const std::string& name, const std::string& key)
    {
        return name.empty() ? key : name + "." + key;
    }

    void walk(const Value& v, const std::string& name, int depth)
    {
        visit(depth);
        if (isTensor(v)) {
            addTensor(v, name.empty() ? "tensor" : name, depth);
        } else if (v.kind == Kind::Dict && holdsTensor(v, depth)) {
            for (const auto& [k, x] : v.entries)
                walk(*x, join(name, k->kind == Kind::String ? k->text : pickle::repr(*k)),
                     depth + 1);
        } else if ((v.kind == Kind::List || v.kind == Kind::Tuple) && holdsTensor(v, depth)) {
            for (std::size_t i = 0; i < v.items.size(); ++i)
                walk(*v.items[i], join(name, std::to_string(i)), depth + 1);
        } else {
            std::string text = pickle::repr(v, 1000);
            output(name.size() + text.size());
            m_model.metadata[name.empty() ? "value" : name] = std::move(text);
        }
    }

    static const StorageClass* storageClass(const Value& v)
    {
        for (const auto& c : kStorageClasses)
            if (v.isGlobal(c.global)) return &c;
        return nullptr;
    }

    static bool isInt(const Value* v) { return v->kind == Kind::Int && !v->intTooLarge; }

    // A persistent id ('storage', storage class, key, location, numel), as torch.save writes it.
    const Storage& storage(const Value& v, const std::string& name)
    {
        const Value* pid = v.kind == Kind::Persistent ? v.items.at(0) : nullptr;
        if (!pid || pid->kind != Kind::Tuple || pid->items.size() != 5 ||
            pid->items[0]->kind != Kind::String || pid->items[0]->text != "storage")
            failTensor(name, "its storage is not a ('storage', type, key, location, size) "
                             "persistent id");
        const auto& it = pid->items;
        const StorageClass* cls = storageClass(*it[1]);
        if (!cls) failTensor(name, "unsupported storage type " + pickle::repr(*it[1]));
        if (it[2]->kind != Kind::String && !isInt(it[2]))
            failTensor(name, "storage key is not a string");
        const std::string key = it[2]->kind == Kind::String ? it[2]->text : pickle::repr(*it[2]);
        if (!isInt(it[4]) || it[4]->integer < 0)
            failTensor(name, "storage '" + key + "' has an invalid size " + pickle::repr(*it[4]));
        const std::string type = std::string(cls->global).substr(6);

        if (const auto found = m_storages.find(key); found != m_storages.end()) {
            if (found->second.dtype != cls->dtype || found->second.numel != it[4]->integer)
                failTensor(name, "storage '" + key + "' is used as " + type + " of " +
                                     std::to_string(it[4]->integer) + " elements and as " +
                                     found->second.type + " of " +
                                     std::to_string(found->second.numel));
            return found->second;
        }
        const std::string member = m_prefix + "data/" + key;
        const ZipMember* m = m_zip.find(member);
        if (!m)
            failTensor(name, "storage '" + key + "' is missing from the archive (no member '" +
                                 member + "')");
        const std::int64_t numel = it[4]->integer;
        std::int64_t bytes = 0;
        if (__builtin_mul_overflow(numel, static_cast<std::int64_t>(dtypeSize(cls->dtype)),
                                   &bytes) ||
            static_cast<std::uint64_t>(bytes) > m->size)
            failTensor(name, "storage '" + key + "' declares " + std::to_string(numel) + " " +
                                 type + " elements, more than its member '" + member + "' holds (" +
                                 std::to_string(m->size) + " bytes)");
        const ZipMemberData data = m_zip.read(*m);
        int fileIndex = 0;
        if (data.source != m_model.files.front()) { // inflated: its buffer joins the model
            fileIndex = static_cast<int>(m_model.files.size());
            m_model.files.push_back(data.source);
        }
        return m_storages[key] =
                   Storage{cls->dtype, type, cls->torchName, fileIndex, data.offset, numel};
    }

    std::vector<std::int64_t> ints(const Value* v, const std::string& name, const char* what)
    {
        if (v->kind != Kind::Tuple && v->kind != Kind::List)
            failTensor(name, std::string(what) + " is not a tuple");
        std::vector<std::int64_t> out;
        for (const Value* x : v->items) {
            if (!isInt(x) || x->integer < 0)
                failTensor(name, std::string(what) + " " + pickle::repr(*v) +
                                     " holds a value that is not a non-negative integer");
            out.push_back(x->integer);
        }
        return out;
    }

    void addTensor(const Value& call, const std::string& name, int depth)
    {
        const Value* v = &call;
        // _rebuild_parameter(data, requires_grad, backward_hooks) wraps a tensor.
        while (v->callable()->isGlobal(kRebuildParameter)) {
            visit(++depth);
            if (v->args()->items.empty() || !isTensor(*v->args()->items[0]))
                failTensor(name, "a parameter without tensor data");
            v = v->args()->items[0];
        }
        const auto& args = v->args()->items;
        const bool v2 = v->callable()->isGlobal(kRebuildTensorV2);
        if (v2 ? args.size() < 4 : args.size() != 4)
            failTensor(name, v->callable()->text + " called with " + std::to_string(args.size()) +
                                 " arguments");
        const Storage& s = storage(*args[0], name);
        if (!isInt(args[1]) || args[1]->integer < 0)
            failTensor(name, "invalid storage offset " + pickle::repr(*args[1]));
        const std::int64_t storageOffset = args[1]->integer;
        const Shape shape = ints(args[2], name, "size");
        const std::vector<std::int64_t> stride = ints(args[3], name, "stride");
        if (stride.size() != shape.size())
            failTensor(name, "size " + pickle::repr(*args[2]) + " and stride " +
                                 pickle::repr(*args[3]) + " differ in length");

        TensorInfo t;
        t.name = name;
        t.shape = shape;
        t.dtype = s.dtype;
        t.storedType = s.torchName;
        t.fileIndex = s.fileIndex;
        t.channelAxis = 0;
        t.bigEndian = m_bigEndian && dtypeSize(s.dtype) > 1;

        // The elements the view reaches: [offset, offset + extent) of the storage.
        const bool empty = std::find(shape.begin(), shape.end(), 0) != shape.end();
        std::int64_t numel = 1, extent = empty ? 0 : 1, expected = 1, end = 0;
        bool contiguous = true, overflow = false;
        for (std::size_t a = shape.size(); a-- > 0 && !empty;) {
            std::int64_t reach = 0;
            overflow = overflow || __builtin_mul_overflow(numel, shape[a], &numel) ||
                       __builtin_mul_overflow(shape[a] - 1, stride[a], &reach) ||
                       __builtin_add_overflow(extent, reach, &extent);
            if (overflow) break; // reported below; `expected` must not overflow meanwhile
            if (shape[a] != 1 && stride[a] != expected) contiguous = false;
            expected *= shape[a]; // cannot overflow while numel does not
        }
        if (overflow || __builtin_add_overflow(storageOffset, extent, &end) || end > s.numel)
            failTensor(name, "size " + shapeToString(shape) + " with stride " +
                                 pickle::repr(*args[3]) + " from storage offset " +
                                 std::to_string(storageOffset) + " reaches beyond its storage of " +
                                 std::to_string(s.numel) + " elements");
        output(name.size());
        if (!m_names.insert(name).second) fail("tensor name '" + name + "' appears more than once");
        const std::uint64_t elem = dtypeSize(s.dtype);
        t.offset = s.offset + static_cast<std::uint64_t>(storageOffset) * elem;
        t.byteSize = static_cast<std::uint64_t>(extent) * elem;
        if (!contiguous && !empty && numel > 1) t.strides = stride;
        m_model.tensors.push_back(std::move(t));
    }
};

} // namespace

bool TorchReader::canOpen(const std::string& path) const
{
    try {
        auto file = std::make_shared<const MappedFile>(path);
        if (!looksLikeZip(file->bytes())) return false;
        if (const auto first = firstZipMemberName(file->bytes()); first && isDataPkl(*first))
            return true;
        const ZipArchive zip(file);
        return findDataPkl(zip) != nullptr;
    } catch (const Error&) {
        return false;
    }
}

Model TorchReader::open(const std::string& path) const
{
    auto file = std::make_shared<const MappedFile>(path);
    const ZipArchive zip(file);
    const ZipMember* pkl = findDataPkl(zip);
    if (!pkl) throw Error(path + ": not a PyTorch checkpoint (no data.pkl member)");
    const std::string prefix = pkl->name.substr(0, pkl->name.size() - kDataPkl.size());

    Model model;
    model.path = path;
    model.format = "pytorch";
    model.files.push_back(file);

    bool bigEndian = false;
    if (const ZipMember* m = zip.find(prefix + "byteorder")) {
        if (m->size > 16) throw Error(path + ": member '" + m->name + "' is not a byte order");
        const std::string order = trimmed(text(zip.read(*m).bytes()));
        if (order != "little" && order != "big")
            throw Error(path + ": unknown byte order '" + order + "' in member '" + m->name + "'");
        bigEndian = order == "big";
        model.metadata["pytorch_byteorder"] = order;
    }
    if (const ZipMember* m = zip.find(prefix + "version"); m && m->size <= 16)
        model.metadata["pytorch_format_version"] = trimmed(text(zip.read(*m).bytes()));

    const ZipMemberData data = zip.read(*pkl);
    const pickle::Tree tree =
        pickle::unpickle(data.bytes(), allowedGlobals(), path, "member '" + pkl->name + "'");
    Loader(path, zip, prefix, bigEndian, model).load(tree, data.size);
    return model;
}

} // namespace qs
