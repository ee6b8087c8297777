#include "cli.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <iostream>

namespace qs::cli {

Args::Args(const std::vector<std::string>& argv, const std::set<std::string>& flags,
           const std::set<std::string>& options)
{
    for (std::size_t i = 0; i < argv.size(); ++i) {
        std::string a = argv[i];
        if (a.rfind("--", 0) != 0 || a == "--") {
            m_positionals.push_back(a);
            continue;
        }
        std::optional<std::string> inlineValue;
        if (const auto eq = a.find('='); eq != std::string::npos) {
            inlineValue = a.substr(eq + 1);
            a = a.substr(0, eq);
        }
        const std::string name = a.substr(2);
        if (flags.count(name)) {
            if (inlineValue) throw UsageError("option --" + name + " takes no value");
            m_flags.insert(name);
        } else if (options.count(name)) {
            if (inlineValue) {
                m_options[name] = *inlineValue;
            } else {
                if (i + 1 >= argv.size()) throw UsageError("option --" + name + " needs a value");
                m_options[name] = argv[++i];
            }
        } else {
            throw UsageError("unknown option --" + name);
        }
    }
}

std::optional<std::string> Args::option(const std::string& name) const
{
    const auto it = m_options.find(name);
    if (it == m_options.end()) return std::nullopt;
    return it->second;
}

int Args::intOption(const std::string& name, int fallback, int min, int max) const
{
    const auto v = option(name);
    if (!v) return fallback;
    int n = 0;
    const auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
    if (ec != std::errc() || p != v->data() + v->size() || n < min || n > max)
        throw UsageError("--" + name + " needs a whole number from " + std::to_string(min) +
                         " to " + std::to_string(max) + ", not '" + *v + "'");
    return n;
}

Json number(double v)
{
    return std::isfinite(v) ? Json(v) : Json(nullptr);
}
Json number(const std::optional<double>& v)
{
    return v ? number(*v) : Json(nullptr);
}

void printJson(const Json& j)
{
    std::cout << j.dump(2) << '\n';
}

std::string humanBytes(double bytes)
{
    const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    while (bytes >= 1024.0 && u < 4) {
        bytes /= 1024.0;
        ++u;
    }
    char buf[32];
    std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.2f %s", bytes, units[u]);
    return buf;
}

} // namespace qs::cli
