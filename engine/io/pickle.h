// A restricted Python unpickler: builds a value tree from pickle bytes and never runs anything.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace qs::pickle {

struct Value
{
    enum class Kind : std::uint8_t {
        None,
        Bool,
        Int,
        Float,
        String, // unicode text (and Python 2 str), as UTF-8
        Bytes,
        Tuple,
        List,
        Set, // set and frozenset
        Dict,
        Global,     // a reference to module.name (allowed by the caller's list)
        Call,       // callable(*args): REDUCE, NEWOBJ, INST, OBJ of an allowed global
        Persistent, // a persistent id, left for the caller to resolve
    };

    Kind kind = Kind::None;
    bool boolean = false;
    bool intTooLarge = false; // an integer beyond int64; integer then holds 0
    std::int64_t integer = 0;
    double number = 0;
    std::string text; // String, Bytes; "module.name" for Global
    // Tuple/List/Set elements; Call: [callable, args]; Persistent: [pid].
    std::vector<const Value*> items;
    std::vector<std::pair<const Value*, const Value*>> entries; // Dict, in insertion order
    const Value* state = nullptr; // what BUILD set on a Call or Dict, if anything
    int depth = 1;                // nesting depth when the value was last extended

    const Value* callable() const { return items.at(0); }
    const Value* args() const { return items.at(1); }
    bool isGlobal(const char* name) const { return kind == Kind::Global && text == name; }
};

struct Limits
{
    int maxDepth = 256;                            // nesting of containers
    std::size_t maxObjects = std::size_t{1} << 22; // values created
    std::size_t maxMemo = std::size_t{1} << 22;    // memo entries
    std::uint64_t maxMemoIndex = std::uint64_t{1} << 32;
    std::size_t maxStack = std::size_t{1} << 20; // values and marks on the stack
};

// The values of one pickle; they live as long as the tree (values may be shared or cyclic).
class Tree
{
public:
    const Value* root() const { return m_root; }
    std::size_t size() const { return m_values.size(); }

private:
    friend class Unpickler;
    std::vector<std::unique_ptr<Value>> m_values;
    const Value* m_root = nullptr;
};

// Protocols 0-5 as far as plain data needs. GLOBAL/STACK_GLOBAL/INST must name a global in
// `allowed` ("module.name" as the pickle spells it); anything else is refused with
// "<where>: unsupported pickle content: module.name". Structural errors read
// "<where>: <what> at byte N of <pickleName>". Strings are bounded by the pickle's own size.
Tree unpickle(std::span<const std::byte> bytes, const std::set<std::string, std::less<>>& allowed,
              const std::string& where, const std::string& pickleName = "the pickle",
              const Limits& limits = {});

// Python-like text of a value, at most about maxChars long (longer text ends in "...").
std::string repr(const Value& v, std::size_t maxChars = 200);

} // namespace qs::pickle
