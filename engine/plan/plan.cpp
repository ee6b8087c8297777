#include "plan/plan.h"

#include "core/error.h"

#include <nlohmann/json.hpp>

#include <cctype>
#include <vector>

namespace qs {
namespace {
using json = nlohmann::ordered_json;

Precision parsePrecision(const json& j, const std::string& source, const std::string& where)
{
    if (!j.is_object()) throw Error(source + ": " + where + " is not an object");
    const auto f = j.find("format");
    if (f == j.end() || !f->is_string())
        throw Error(source + ": " + where + " needs a \"format\" string");
    Precision p;
    p.format = f->get<std::string>();
    if (p.format != "keep" && !findFormat(p.format))
        throw Error(source + ": " + where + ": unknown format \"" + p.format +
                    "\" (see quantscope-cli formats)");
    if (const auto g = j.find("granularity"); g != j.end() && !g->is_null()) {
        if (!g->is_string())
            throw Error(source + ": " + where + ": \"granularity\" is not a string");
        p.granularity = Granularity::parse(g->get<std::string>());
        if (!p.granularity)
            throw Error(source + ": " + where + ": bad granularity \"" + g->get<std::string>() +
                        "\" (tensor, channel or group:G)");
    }
    if (const auto c = j.find("calibration"); c != j.end() && !c->is_null()) {
        if (!c->is_string())
            throw Error(source + ": " + where + ": \"calibration\" is not a string");
        p.calibration = Calibration::parse(c->get<std::string>());
        if (!p.calibration)
            throw Error(source + ": " + where + ": bad calibration \"" + c->get<std::string>() +
                        "\" (minmax, percentile:P, mse or hqq)");
    }
    if (const auto r = j.find("rounding"); r != j.end() && !r->is_null()) {
        p.rounding = r->is_string() ? parseRounding(r->get<std::string>()) : std::nullopt;
        if (!p.rounding)
            throw Error(source + ": " + where + ": \"rounding\" is \"nearest\" or \"stochastic\"");
    }
    return p;
}

json precisionJson(const Precision& p)
{
    json j = {{"format", p.format}};
    if (p.granularity) j["granularity"] = p.granularity->toString();
    if (p.calibration) j["calibration"] = p.calibration->toString();
    if (p.rounding) j["rounding"] = roundingName(*p.rounding);
    return j;
}
} // namespace

Plan Plan::uniform(const std::string& format, const Granularity& granularity)
{
    return uniform(Precision{format, granularity, std::nullopt, std::nullopt});
}

Plan Plan::uniform(const Precision& precision)
{
    Plan p;
    p.defaultPrecision = precision;
    return p;
}

Plan Plan::fromJson(const std::string& text, const std::string& source)
{
    json j;
    try {
        j = json::parse(text);
    } catch (const json::exception& e) { // parse errors, and numbers too large for any type
        throw Error(source + ": invalid JSON: " + e.what());
    }
    if (!j.is_object()) throw Error(source + ": a plan is a JSON object");
    Plan plan;
    for (auto it = j.begin(); it != j.end(); ++it)
        if (it.key() != "default" && it.key() != "rules" && it.key() != "tensors" &&
            it.key() != "seed" && it.key() != "locked")
            throw Error(source + ": unknown plan key \"" + it.key() +
                        "\" (default, rules, tensors, seed, locked)");
    if (const auto s = j.find("seed"); s != j.end()) {
        if (!s->is_number_unsigned())
            throw Error(source + ": \"seed\" is not a non-negative integer");
        plan.seed = s->get<std::uint64_t>();
    }
    if (const auto d = j.find("default"); d != j.end() && !d->is_null())
        plan.defaultPrecision = parsePrecision(*d, source, "\"default\"");
    if (const auto r = j.find("rules"); r != j.end()) {
        if (!r->is_array()) throw Error(source + ": \"rules\" is not an array");
        for (std::size_t i = 0; i < r->size(); ++i) {
            const auto& rule = (*r)[i];
            const std::string where = "rule " + std::to_string(i + 1);
            if (!rule.is_object() || !rule.contains("match") || !rule["match"].is_string())
                throw Error(source + ": " + where + " needs a \"match\" string");
            plan.rules.push_back(
                {rule["match"].get<std::string>(), parsePrecision(rule, source, where)});
        }
    }
    if (const auto t = j.find("tensors"); t != j.end()) {
        if (!t->is_object()) throw Error(source + ": \"tensors\" is not an object");
        for (auto it = t->begin(); it != t->end(); ++it)
            plan.tensors[it.key()] =
                parsePrecision(it.value(), source, "tensor '" + it.key() + "'");
    }
    if (const auto l = j.find("locked"); l != j.end()) {
        if (!l->is_array()) throw Error(source + ": \"locked\" is not an array of tensor names");
        for (const auto& name : *l) {
            if (!name.is_string())
                throw Error(source + ": \"locked\" holds something other than a tensor name");
            plan.locked.insert(name.get<std::string>());
        }
    }
    plan.compileRules(source);
    return plan;
}

namespace {

// std::regex backtracks: a nested quantifier such as (a+)+ or a++ takes exponential time on
// some names, and a huge counted repetition overflows inside the library. Tensor-name rules
// never need either, so they are refused up front; returns the problem, or empty.
std::string riskyPattern(const std::string& re)
{
    constexpr std::size_t kMaxLength = 1000;
    if (re.size() > kMaxLength) return "longer than " + std::to_string(kMaxLength) + " characters";
    std::vector<bool> groupHasQuantifier{false}; // one entry per open group, plus the top level
    bool lastWasQuantified = false; // the previous token was an atom followed by a quantifier
    bool lastClosedQuantifiedGroup = false;
    for (std::size_t i = 0; i < re.size(); ++i) {
        const char c = re[i];
        const bool quantifier = c == '*' || c == '+' || c == '?' || c == '{';
        if (quantifier) {
            if (c == '?' && lastWasQuantified && i > 0 && re[i - 1] != '?') continue; // lazy
            if (lastWasQuantified || lastClosedQuantifiedGroup)
                return "nested quantifier at character " + std::to_string(i + 1) +
                       " (it can take exponential time)";
            if (c == '{') {
                const std::size_t close = re.find('}', i);
                if (close == std::string::npos)
                    return "unclosed '{' at character " + std::to_string(i + 1);
                std::size_t digits = 0;
                for (std::size_t k = i + 1; k < close; ++k)
                    digits = std::isdigit(static_cast<unsigned char>(re[k])) ? digits + 1 : 0;
                if (digits > 3)
                    return "a repetition count over 999 at character " + std::to_string(i + 1);
                i = close;
            }
            groupHasQuantifier.back() = true;
            lastWasQuantified = true;
            lastClosedQuantifiedGroup = false;
            continue;
        }
        lastWasQuantified = false;
        lastClosedQuantifiedGroup = false;
        if (c == '\\') {
            // An escaped character is an atom; \N is a back-reference, whose number
            // libstdc++ also reads without an overflow check.
            std::size_t digits = 0;
            while (i + 1 + digits < re.size() &&
                   std::isdigit(static_cast<unsigned char>(re[i + 1 + digits])))
                ++digits;
            if (digits > 2)
                return "a back-reference number over 99 at character " + std::to_string(i + 1);
            i += digits ? digits : 1;
        } else if (c == '[') {
            const std::size_t close = re.find(']', i + 2);
            if (close != std::string::npos) i = close;
        } else if (c == '(') {
            groupHasQuantifier.push_back(false);
        } else if (c == ')' && groupHasQuantifier.size() > 1) {
            const bool inner = groupHasQuantifier.back();
            groupHasQuantifier.pop_back();
            if (inner) groupHasQuantifier.back() = true;
            lastClosedQuantifiedGroup = inner;
        }
    }
    return {};
}

} // namespace

void Plan::compileRules(const std::string& source) const
{
    m_compiled.clear();
    m_compiledFrom.clear();
    for (std::size_t i = 0; i < rules.size(); ++i) {
        if (const auto risk = riskyPattern(rules[i].match); !risk.empty())
            throw Error(source + ": rule " + std::to_string(i + 1) + ": regular expression \"" +
                        rules[i].match + "\" refused: " + risk);
        try {
            m_compiled.emplace_back(rules[i].match, std::regex::ECMAScript);
            m_compiledFrom.push_back(rules[i].match);
        } catch (const std::regex_error& e) {
            throw Error(source + ": rule " + std::to_string(i + 1) + ": bad regular expression \"" +
                        rules[i].match + "\": " + e.what());
        }
    }
}

std::string Plan::toJson() const
{
    json j = json::object();
    if (defaultPrecision) j["default"] = precisionJson(*defaultPrecision);
    json r = json::array();
    for (const auto& rule : rules) {
        json e = precisionJson(rule.precision);
        e["match"] = rule.match;
        r.push_back(std::move(e));
    }
    if (!rules.empty()) j["rules"] = r;
    json t = json::object();
    for (const auto& [name, p] : tensors)
        t[name] = precisionJson(p);
    if (!tensors.empty()) j["tensors"] = t;
    if (seed != 0) j["seed"] = seed;
    if (!locked.empty()) j["locked"] = locked;
    return j.dump(2);
}

std::optional<Precision> Plan::precisionFor(const TensorInfo& t, std::string* origin) const
{
    bool stale = m_compiledFrom.size() != rules.size();
    for (std::size_t i = 0; !stale && i < rules.size(); ++i)
        stale = m_compiledFrom[i] != rules[i].match;
    if (stale) compileRules();
    if (origin) origin->clear();
    if (const auto it = tensors.find(t.name); it != tensors.end()) {
        if (origin) *origin = "tensor";
        return it->second;
    }
    for (std::size_t i = 0; i < rules.size(); ++i)
        if (std::regex_search(t.name, m_compiled[i])) {
            if (origin) *origin = "rule " + std::to_string(i + 1);
            return rules[i].precision;
        }
    if (defaultPrecision && t.shape.size() >= 2) {
        if (origin) *origin = "default";
        return defaultPrecision;
    }
    return std::nullopt;
}

std::optional<QuantSpec> Plan::resolve(const TensorInfo& t) const
{
    if (!isQuantizable(t.dtype)) return std::nullopt;
    const auto p = precisionFor(t);
    if (!p || p->format == "keep") return std::nullopt;
    QuantSpec spec;
    spec.format = findFormat(p->format);
    if (!spec.format) return std::nullopt;
    // An entry without a granularity takes the default's, or per-tensor when there is none.
    if (p->granularity)
        spec.granularity = *p->granularity;
    else if (defaultPrecision && defaultPrecision->granularity)
        spec.granularity = *defaultPrecision->granularity;
    // Calibration and rounding likewise; they only mean something for integer formats.
    const auto inherit = [&](auto member) {
        const auto& own = (*p).*member;
        return own ? own : defaultPrecision ? (*defaultPrecision).*member : own;
    };
    if (spec.format->integer()) {
        spec.calibration = inherit(&Precision::calibration).value_or(Calibration{});
        spec.rounding = inherit(&Precision::rounding).value_or(Rounding::Nearest);
        spec.seed = seed;
    }
    return spec;
}

} // namespace qs
