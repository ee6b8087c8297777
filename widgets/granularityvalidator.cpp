#include "granularityvalidator.h"

#include "precisionchoices.h"

#include <algorithm>

namespace qs {

QValidator::State GranularityValidator::validate(QString& input, int& /*pos*/) const
{
    const QString text = input.trimmed();
    if (choices::parseGranularity(text)) return Acceptable;
    // Anything that can still grow into a valid name is left for the person to finish.
    static const QStringList words{QStringLiteral("tensor"), QStringLiteral("channel"),
                                   QStringLiteral("group:")};
    for (const QString& w : words)
        if (w.startsWith(text)) return Intermediate;
    const QString prefix = QStringLiteral("group:");
    if (text.startsWith(prefix)) {
        // "group:0" is not valid yet but may become "group:032"; any digits may still grow.
        const QString digits = text.mid(prefix.size());
        if (std::all_of(digits.begin(), digits.end(), [](QChar c) { return c.isDigit(); }))
            return Intermediate;
    }
    return Invalid;
}

} // namespace qs
