#include "precisionchoices.h"

namespace qs::choices {
namespace {
QString toQString(std::string_view s)
{
    return QString::fromUtf8(s.data(), static_cast<qsizetype>(s.size()));
}
} // namespace

QString keepName()
{
    return QStringLiteral("keep");
}

QStringList formatNames()
{
    QStringList names{keepName()};
    for (const Format& f : formats())
        names << toQString(f.name);
    return names;
}

QStringList granularityPresets()
{
    return {QStringLiteral("tensor"), QStringLiteral("channel"), QStringLiteral("group:32"),
            QStringLiteral("group:64"), QStringLiteral("group:128")};
}

QString formatDescription(const QString& name)
{
    if (name == keepName()) return QStringLiteral("Leave the tensor at its stored precision");
    const Format* f = findFormat(name.toStdString());
    return f ? toQString(f->description) : QString();
}

bool isKnownFormat(const QString& name)
{
    return name == keepName() || findFormat(name.toStdString()) != nullptr;
}

bool hasGranularity(const QString& formatName)
{
    const Format* f = findFormat(formatName.toStdString());
    return f && f->takesGranularity();
}

std::optional<Granularity> parseGranularity(const QString& text)
{
    return Granularity::parse(text.trimmed().toStdString());
}

QString granularityName(const Granularity& g)
{
    return QString::fromStdString(g.toString());
}

} // namespace qs::choices
