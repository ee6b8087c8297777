#include "io/pickle.h"

#include "io/pickle_text.h"

#include "core/error.h"

#include <bit>
#include <charconv>
#include <cstring>
#include <unordered_map>

namespace qs::pickle {
namespace {

using Kind = Value::Kind;

// Opcodes as Python's pickletools documents them (protocols 0-5).
enum Op : unsigned char {
    MARK = '(',
    STOP = '.',
    POP = '0',
    POP_MARK = '1',
    DUP = '2',
    FLOAT = 'F',
    INT = 'I',
    BININT = 'J',
    BININT1 = 'K',
    LONG = 'L',
    BININT2 = 'M',
    NONE = 'N',
    PERSID = 'P',
    BINPERSID = 'Q',
    REDUCE = 'R',
    STRING = 'S',
    BINSTRING = 'T',
    SHORT_BINSTRING = 'U',
    UNICODE = 'V',
    BINUNICODE = 'X',
    APPEND = 'a',
    BUILD = 'b',
    GLOBAL = 'c',
    DICT = 'd',
    EMPTY_DICT = '}',
    APPENDS = 'e',
    GET = 'g',
    BINGET = 'h',
    INST = 'i',
    LONG_BINGET = 'j',
    LIST = 'l',
    EMPTY_LIST = ']',
    OBJ = 'o',
    PUT = 'p',
    BINPUT = 'q',
    LONG_BINPUT = 'r',
    SETITEM = 's',
    TUPLE = 't',
    EMPTY_TUPLE = ')',
    SETITEMS = 'u',
    BINFLOAT = 'G',
    PROTO = 0x80,
    NEWOBJ = 0x81,
    EXT1 = 0x82,
    EXT2 = 0x83,
    EXT4 = 0x84,
    TUPLE1 = 0x85,
    TUPLE2 = 0x86,
    TUPLE3 = 0x87,
    NEWTRUE = 0x88,
    NEWFALSE = 0x89,
    LONG1 = 0x8a,
    LONG4 = 0x8b,
    SHORT_BINUNICODE = 0x8c,
    BINUNICODE8 = 0x8d,
    BINBYTES8 = 0x8e,
    EMPTY_SET = 0x8f,
    ADDITEMS = 0x90,
    FROZENSET = 0x91,
    NEWOBJ_EX = 0x92,
    STACK_GLOBAL = 0x93,
    MEMOIZE = 0x94,
    FRAME = 0x95,
    BYTEARRAY8 = 0x96,
    NEXT_BUFFER = 0x97,
    READONLY_BUFFER = 0x98,
    BINBYTES = 'B',
    SHORT_BINBYTES = 'C',
};

} // namespace

class Unpickler
{
public:
    Unpickler(std::span<const std::byte> bytes, const std::set<std::string, std::less<>>& allowed,
              const std::string& where, const std::string& pickleName, const Limits& limits)
        : m_b(bytes), m_allowed(allowed), m_where(where), m_pickleName(pickleName), m_limits(limits)
    {
    }

    Tree run();

private:
    std::span<const std::byte> m_b;
    const std::set<std::string, std::less<>>& m_allowed;
    const std::string& m_where;
    const std::string& m_pickleName;
    const Limits& m_limits;
    Tree m_tree;
    std::uint64_t m_pos = 0;
    std::uint64_t m_opAt = 0; // where the current opcode starts, for messages
    std::vector<Value*> m_stack;
    std::vector<std::size_t> m_marks; // stack sizes at each MARK
    std::unordered_map<std::uint64_t, Value*> m_memo;

    [[noreturn]] void fail(const std::string& what) const
    {
        throw Error(m_where + ": " + what + " at byte " + std::to_string(m_opAt) + " of " +
                    m_pickleName);
    }

    // --- reading the opcode stream ---
    std::span<const std::byte> take(std::uint64_t n, const char* what)
    {
        if (n > m_b.size() - m_pos)
            fail(std::string("truncated pickle: ") + what + " needs " + std::to_string(n) +
                 " bytes, " + std::to_string(m_b.size() - m_pos) + " left");
        const auto s = m_b.subspan(static_cast<std::size_t>(m_pos), static_cast<std::size_t>(n));
        m_pos += n;
        return s;
    }
    std::uint64_t le(std::uint64_t n, const char* what)
    {
        const auto s = take(n, what);
        std::uint64_t v = 0;
        for (std::size_t i = n; i-- > 0;)
            v = (v << 8) | static_cast<std::uint64_t>(s[i]);
        return v;
    }
    std::string str(std::span<const std::byte> s)
    {
        return {reinterpret_cast<const char*>(s.data()), s.size()};
    }
    std::string line(const char* what)
    {
        const auto rest = m_b.subspan(static_cast<std::size_t>(m_pos));
        for (std::size_t i = 0; i < rest.size(); ++i)
            if (rest[i] == std::byte{'\n'}) {
                m_pos += i + 1;
                return str(rest.first(i));
            }
        fail(std::string("truncated pickle: ") + what + " has no end of line");
    }
    // A length prefix of n bytes, checked against what is left of the pickle, so that no
    // string can claim more memory than the pickle itself occupies.
    std::uint64_t length(std::uint64_t n, const char* what, bool isSigned = false)
    {
        const std::uint64_t len = le(n, what);
        if (isSigned && n == 4 && (len & 0x80000000u))
            fail(std::string("negative length in ") + what);
        if (len > m_b.size() - m_pos)
            fail(std::string("truncated pickle: ") + what + " of " + std::to_string(len) +
                 " bytes runs past the end (" + std::to_string(m_b.size() - m_pos) + " left)");
        return len;
    }

    // --- values and the stack ---
    Value* make(Kind kind)
    {
        if (m_tree.m_values.size() >= m_limits.maxObjects)
            fail("more than " + std::to_string(m_limits.maxObjects) + " values in the pickle");
        m_tree.m_values.push_back(std::make_unique<Value>());
        Value* v = m_tree.m_values.back().get();
        v->kind = kind;
        return v;
    }
    void push(Value* v)
    {
        if (m_stack.size() + m_marks.size() >= m_limits.maxStack)
            fail("pickle stack deeper than " + std::to_string(m_limits.maxStack));
        m_stack.push_back(v);
    }
    std::size_t fence() const { return m_marks.empty() ? 0 : m_marks.back(); }
    std::size_t available() const { return m_stack.size() - fence(); }
    Value* pop(const char* op)
    {
        if (available() == 0) fail(std::string(op) + " on an empty stack");
        Value* v = m_stack.back();
        m_stack.pop_back();
        return v;
    }
    Value* top(const char* op)
    {
        if (available() == 0) fail(std::string(op) + " on an empty stack");
        return m_stack.back();
    }
    // The values pushed since the last MARK, which is removed.
    std::vector<Value*> popMark(const char* op)
    {
        if (m_marks.empty()) fail(std::string(op) + " without a MARK");
        const std::size_t at = m_marks.back();
        m_marks.pop_back();
        std::vector<Value*> items(m_stack.begin() + static_cast<std::ptrdiff_t>(at), m_stack.end());
        m_stack.resize(at);
        return items;
    }
    void adopt(Value* parent, const Value* child)
    {
        if (child->depth + 1 > parent->depth) parent->depth = child->depth + 1;
        if (parent->depth > m_limits.maxDepth)
            fail("values nested deeper than " + std::to_string(m_limits.maxDepth) + " levels");
    }
    Value* sequence(Kind kind, const std::vector<Value*>& items)
    {
        Value* v = make(kind);
        for (Value* i : items)
            addItem(v, i);
        return v;
    }
    void addItem(Value* container, Value* item)
    {
        adopt(container, item);
        container->items.push_back(item);
    }
    void setItem(Value* dict, Value* key, Value* value)
    {
        adopt(dict, key);
        adopt(dict, value);
        dict->entries.emplace_back(key, value);
    }
    Value* expect(Value* v, Kind kind, const char* op)
    {
        if (v->kind != kind)
            fail(std::string(op) + " expects a " + kindName(kind) + ", not a " + kindName(v->kind));
        return v;
    }

    void memoPut(std::uint64_t index)
    {
        Value* v = top("PUT");
        if (index > m_limits.maxMemoIndex)
            fail("memo index " + std::to_string(index) + " is out of range");
        auto [it, inserted] = m_memo.try_emplace(index, v);
        if (!inserted) it->second = v;
        if (m_memo.size() > m_limits.maxMemo)
            fail("more than " + std::to_string(m_limits.maxMemo) + " memo entries");
    }
    void memoGet(std::uint64_t index)
    {
        const auto it = m_memo.find(index);
        if (it == m_memo.end()) fail("memo index " + std::to_string(index) + " is not defined");
        push(it->second);
    }
    std::uint64_t decimal(const std::string& s, const char* what)
    {
        std::uint64_t v = 0;
        const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
        if (ec != std::errc{} || p != s.data() + s.size() || s.empty())
            fail(std::string("bad ") + what + " '" + s.substr(0, 40) + "'");
        return v;
    }

    Value* global(std::string module, std::string name)
    {
        std::string full = module + "." + name;
        if (!m_allowed.contains(full)) {
            // The name as the pickle spells it, printable whatever bytes it holds.
            std::string shown;
            for (const char c : full.substr(0, 200))
                shown += (c >= 0x20 && c < 0x7f) ? c : '?';
            throw Error(m_where + ": unsupported pickle content: " + shown);
        }
        Value* v = make(Kind::Global);
        v->text = std::move(full);
        return v;
    }
    Value* call(Value* callable, Value* args, const char* op)
    {
        if (callable->kind != Kind::Global)
            fail(std::string(op) + " calls a " + kindName(callable->kind) + ", not a global");
        expect(args, Kind::Tuple, op);
        if (callable->text == "collections.OrderedDict") return orderedDict(args);
        Value* v = make(Kind::Call);
        addItem(v, callable);
        addItem(v, args);
        return v;
    }
    // OrderedDict() or OrderedDict([(key, value), ...]): a plain dict keeps insertion order.
    Value* orderedDict(const Value* args)
    {
        Value* d = make(Kind::Dict);
        if (args->items.empty()) return d;
        const Value* pairs = args->items[0];
        if (args->items.size() != 1 || (pairs->kind != Kind::List && pairs->kind != Kind::Tuple))
            fail("OrderedDict called with unexpected arguments");
        for (const Value* p : pairs->items) {
            if ((p->kind != Kind::Tuple && p->kind != Kind::List) || p->items.size() != 2)
                fail("OrderedDict item is not a (key, value) pair");
            setItem(d, const_cast<Value*>(p->items[0]), const_cast<Value*>(p->items[1]));
        }
        return d;
    }
    Value* integer(std::span<const std::byte> le)
    {
        // Little-endian two's complement; sign bytes beyond 8 are redundant when they repeat.
        std::size_t n = le.size();
        while (n > 8 &&
               ((le[n - 1] == std::byte{0} && (le[n - 2] & std::byte{0x80}) == std::byte{0}) ||
                (le[n - 1] == std::byte{0xff} && (le[n - 2] & std::byte{0x80}) != std::byte{0})))
            --n;
        Value* v = make(Kind::Int);
        if (n > 8) {
            v->intTooLarge = true;
            return v;
        }
        std::uint64_t u = 0;
        for (std::size_t i = n; i-- > 0;)
            u = (u << 8) | static_cast<std::uint64_t>(le[i]);
        if (n > 0 && n < 8 && (le[n - 1] & std::byte{0x80}) != std::byte{0})
            u |= ~std::uint64_t{0} << (8 * n); // sign-extend
        v->integer = static_cast<std::int64_t>(u);
        return v;
    }
    Value* textInteger(std::string s, bool isLong)
    {
        if (isLong && !s.empty() && s.back() == 'L') s.pop_back();
        Value* v = make(Kind::Int);
        const char* b = s.data();
        if (!s.empty() && s[0] == '+') ++b;
        const auto [p, ec] = std::from_chars(b, s.data() + s.size(), v->integer);
        if (ec == std::errc::result_out_of_range) {
            v->intTooLarge = true;
            v->integer = 0;
        } else if (ec != std::errc{} || p != s.data() + s.size() || s.empty()) {
            fail("bad integer '" + s.substr(0, 40) + "'");
        }
        return v;
    }
    Value* string(std::string s, Kind kind)
    {
        Value* v = make(kind);
        v->text = std::move(s);
        return v;
    }
    Value* unicode(std::string s)
    {
        if (!validUtf8(s)) fail("string is not valid UTF-8");
        return string(std::move(s), Kind::String);
    }
    // Python 2 str (protocols 0-2): its bytes taken as Latin-1, so any byte gives valid text.
    Value* latin1(std::string_view s)
    {
        std::string out;
        for (const char c : s)
            appendUtf8(out, static_cast<unsigned char>(c));
        return string(std::move(out), Kind::String);
    }
    void step(unsigned char op);
};

void Unpickler::step(unsigned char op)
{
    switch (op) {
    case PROTO: {
        const auto v = le(1, "PROTO");
        if (v > 5) fail("pickle protocol " + std::to_string(v) + " is not supported");
        break;
    }
    case FRAME:
        le(8, "FRAME");
        break; // frames only group opcodes for buffered reading
    case MARK:
        if (m_stack.size() + m_marks.size() >= m_limits.maxStack)
            fail("pickle stack deeper than " + std::to_string(m_limits.maxStack));
        m_marks.push_back(m_stack.size());
        break;
    case POP:
        if (available() == 0 && !m_marks.empty())
            m_marks.pop_back();
        else
            pop("POP");
        break;
    case POP_MARK:
        popMark("POP_MARK");
        break;
    case DUP:
        push(top("DUP"));
        break;
    case NONE:
        push(make(Kind::None));
        break;
    case NEWTRUE:
    case NEWFALSE: {
        Value* v = make(Kind::Bool);
        v->boolean = op == NEWTRUE;
        push(v);
        break;
    }
    case INT: {
        const std::string s = line("INT");
        if (s == "00" || s == "01") {
            Value* v = make(Kind::Bool);
            v->boolean = s == "01";
            push(v);
        } else {
            push(textInteger(s, false));
        }
        break;
    }
    case LONG:
        push(textInteger(line("LONG"), true));
        break;
    case BININT:
        push(integer(take(4, "BININT")));
        break;
    case BININT1: {
        Value* v = make(Kind::Int);
        v->integer = static_cast<std::int64_t>(le(1, "BININT1")); // unsigned
        push(v);
        break;
    }
    case BININT2: {
        Value* v = make(Kind::Int);
        v->integer = static_cast<std::int64_t>(le(2, "BININT2")); // unsigned
        push(v);
        break;
    }
    case LONG1:
        push(integer(take(length(1, "LONG1"), "LONG1")));
        break;
    case LONG4: {
        const std::uint64_t n = length(4, "LONG4", true);
        push(integer(take(n, "LONG4")));
        break;
    }
    case FLOAT: {
        const std::string s = line("FLOAT");
        Value* v = make(Kind::Float);
        const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v->number);
        if (ec != std::errc{} || p != s.data() + s.size())
            fail("bad float '" + s.substr(0, 40) + "'");
        push(v);
        break;
    }
    case BINFLOAT: {
        const auto s = take(8, "BINFLOAT");
        std::uint64_t u = 0;
        for (std::size_t i = 0; i < 8; ++i) // big-endian
            u = (u << 8) | static_cast<std::uint64_t>(s[i]);
        Value* v = make(Kind::Float);
        v->number = std::bit_cast<double>(u);
        push(v);
        break;
    }
    case STRING: {
        const auto text = unquote(line("STRING"));
        if (!text) fail("STRING argument is not quoted");
        push(latin1(*text));
        break;
    }
    case BINSTRING:
        push(latin1(str(take(length(4, "BINSTRING", true), "BINSTRING"))));
        break;
    case SHORT_BINSTRING:
        push(latin1(str(take(length(1, "SHORT_BINSTRING"), "SHORT_BINSTRING"))));
        break;
    case UNICODE:
        push(unicode(rawUnicodeEscape(line("UNICODE"))));
        break;
    case BINUNICODE:
        push(unicode(str(take(length(4, "BINUNICODE"), "BINUNICODE"))));
        break;
    case SHORT_BINUNICODE:
        push(unicode(str(take(length(1, "SHORT_BINUNICODE"), "SHORT_BINUNICODE"))));
        break;
    case BINUNICODE8:
        push(unicode(str(take(length(8, "BINUNICODE8"), "BINUNICODE8"))));
        break;
    case BINBYTES:
        push(string(str(take(length(4, "BINBYTES"), "BINBYTES")), Kind::Bytes));
        break;
    case SHORT_BINBYTES:
        push(string(str(take(length(1, "SHORT_BINBYTES"), "SHORT_BINBYTES")), Kind::Bytes));
        break;
    case BINBYTES8:
    case BYTEARRAY8:
        push(string(str(take(length(8, "BINBYTES8"), "BINBYTES8")), Kind::Bytes));
        break;
    case EMPTY_TUPLE:
        push(make(Kind::Tuple));
        break;
    case TUPLE:
        push(sequence(Kind::Tuple, popMark("TUPLE")));
        break;
    case TUPLE1:
    case TUPLE2:
    case TUPLE3: {
        const std::size_t n = op - TUPLE1 + 1u;
        if (available() < n)
            fail("TUPLE" + std::to_string(n) + " on a stack of " + std::to_string(available()) +
                 " values");
        std::vector<Value*> items(m_stack.end() - static_cast<std::ptrdiff_t>(n), m_stack.end());
        m_stack.resize(m_stack.size() - n);
        push(sequence(Kind::Tuple, items));
        break;
    }
    case EMPTY_LIST:
        push(make(Kind::List));
        break;
    case LIST:
        push(sequence(Kind::List, popMark("LIST")));
        break;
    case APPEND: {
        Value* v = pop("APPEND");
        addItem(expect(top("APPEND"), Kind::List, "APPEND"), v);
        break;
    }
    case APPENDS: {
        const auto items = popMark("APPENDS");
        Value* list = expect(top("APPENDS"), Kind::List, "APPENDS");
        for (Value* v : items)
            addItem(list, v);
        break;
    }
    case EMPTY_SET:
        push(make(Kind::Set));
        break;
    case FROZENSET:
        push(sequence(Kind::Set, popMark("FROZENSET")));
        break;
    case ADDITEMS: {
        const auto items = popMark("ADDITEMS");
        Value* set = expect(top("ADDITEMS"), Kind::Set, "ADDITEMS");
        for (Value* v : items)
            addItem(set, v);
        break;
    }
    case EMPTY_DICT:
        push(make(Kind::Dict));
        break;
    case DICT:
    case SETITEMS: {
        const char* name = op == DICT ? "DICT" : "SETITEMS";
        const auto items = popMark(name);
        if (items.size() % 2) fail(std::string(name) + " with an odd number of values");
        Value* d = op == DICT ? make(Kind::Dict) : expect(top(name), Kind::Dict, name);
        for (std::size_t i = 0; i < items.size(); i += 2)
            setItem(d, items[i], items[i + 1]);
        if (op == DICT) push(d);
        break;
    }
    case SETITEM: {
        Value* v = pop("SETITEM");
        Value* k = pop("SETITEM");
        setItem(expect(top("SETITEM"), Kind::Dict, "SETITEM"), k, v);
        break;
    }
    case GLOBAL: {
        std::string module = line("GLOBAL");
        push(global(std::move(module), line("GLOBAL")));
        break;
    }
    case STACK_GLOBAL: {
        Value* name = expect(pop("STACK_GLOBAL"), Kind::String, "STACK_GLOBAL");
        Value* module = expect(pop("STACK_GLOBAL"), Kind::String, "STACK_GLOBAL");
        push(global(module->text, name->text));
        break;
    }
    case REDUCE: {
        Value* args = pop("REDUCE");
        push(call(pop("REDUCE"), args, "REDUCE"));
        break;
    }
    case NEWOBJ: {
        Value* args = pop("NEWOBJ");
        push(call(pop("NEWOBJ"), args, "NEWOBJ"));
        break;
    }
    case NEWOBJ_EX: {
        Value* kwargs = expect(pop("NEWOBJ_EX"), Kind::Dict, "NEWOBJ_EX");
        Value* args = pop("NEWOBJ_EX");
        Value* v = call(pop("NEWOBJ_EX"), args, "NEWOBJ_EX");
        if (v->kind == Kind::Call) addItem(v, kwargs);
        push(v);
        break;
    }
    case INST: {
        std::string module = line("INST");
        Value* cls = global(std::move(module), line("INST"));
        push(call(cls, sequence(Kind::Tuple, popMark("INST")), "INST"));
        break;
    }
    case OBJ: {
        auto items = popMark("OBJ");
        if (items.empty()) fail("OBJ without a class");
        Value* cls = items.front();
        items.erase(items.begin());
        push(call(cls, sequence(Kind::Tuple, items), "OBJ"));
        break;
    }
    case BUILD: {
        Value* state = pop("BUILD");
        Value* obj = top("BUILD");
        if (obj->kind != Kind::Call && obj->kind != Kind::Dict)
            fail(std::string("BUILD on a ") + kindName(obj->kind));
        adopt(obj, state);
        obj->state = state;
        break;
    }
    case PERSID: {
        Value* v = make(Kind::Persistent);
        addItem(v, unicode(line("PERSID")));
        push(v);
        break;
    }
    case BINPERSID: {
        Value* pid = pop("BINPERSID");
        Value* v = make(Kind::Persistent);
        addItem(v, pid);
        push(v);
        break;
    }
    case PUT:
        memoPut(decimal(line("PUT"), "memo index"));
        break;
    case BINPUT:
        memoPut(le(1, "BINPUT"));
        break;
    case LONG_BINPUT:
        memoPut(le(4, "LONG_BINPUT"));
        break;
    case MEMOIZE:
        memoPut(m_memo.size());
        break;
    case GET:
        memoGet(decimal(line("GET"), "memo index"));
        break;
    case BINGET:
        memoGet(le(1, "BINGET"));
        break;
    case LONG_BINGET:
        memoGet(le(4, "LONG_BINGET"));
        break;
    case EXT1:
    case EXT2:
    case EXT4:
        fail("unsupported opcode EXT (the copyreg extension registry)");
    case NEXT_BUFFER:
    case READONLY_BUFFER:
        fail("unsupported opcode for out-of-band buffers");
    default: {
        static const char* hex = "0123456789abcdef";
        fail(std::string("unknown opcode 0x") + hex[op >> 4] + hex[op & 15]);
    }
    }
}

Tree Unpickler::run()
{
    while (m_pos < m_b.size()) {
        m_opAt = m_pos;
        const auto op = static_cast<unsigned char>(m_b[static_cast<std::size_t>(m_pos++)]);
        if (op == STOP) {
            if (m_stack.empty()) fail("STOP on an empty stack");
            m_tree.m_root = m_stack.back();
            return std::move(m_tree);
        }
        step(op);
    }
    m_opAt = m_pos;
    fail("truncated pickle: no STOP opcode");
}

Tree unpickle(std::span<const std::byte> bytes, const std::set<std::string, std::less<>>& allowed,
              const std::string& where, const std::string& pickleName, const Limits& limits)
{
    return Unpickler(bytes, allowed, where, pickleName, limits).run();
}

} // namespace qs::pickle
