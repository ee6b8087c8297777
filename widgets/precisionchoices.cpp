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

bool hasCalibration(const QString& formatName)
{
    const Format* f = findFormat(formatName.toStdString());
    return f && f->integer();
}

QStringList calibrationChoices(const QString& formatName)
{
    const Format* f = findFormat(formatName.toStdString());
    if (!f || !f->integer()) return {};
    QStringList names{QStringLiteral("minmax"), QStringLiteral("percentile:99.9"),
                      QStringLiteral("percentile:99.99"), QStringLiteral("mse")};
    if (f->affine()) names << QStringLiteral("hqq");
    return names;
}

std::optional<Calibration> parseCalibration(const QString& text, const QString& formatName)
{
    const Format* f = findFormat(formatName.toStdString());
    if (!f || !f->integer()) return std::nullopt;
    const auto c = Calibration::parse(text.trimmed().toStdString());
    // On a symmetric format hqq would silently fall back to min-max: refuse it instead.
    if (!c || (c->method == Calibration::Method::Hqq && !f->affine())) return std::nullopt;
    return c;
}

QString calibrationName(const Calibration& c)
{
    return QString::fromStdString(c.toString());
}

QString calibrationDescription(const QString& text)
{
    const auto c = Calibration::parse(text.trimmed().toStdString());
    if (!c) return {};
    switch (c->method) {
    case Calibration::Method::MinMax:
        return QStringLiteral("Each scale group spans its smallest to its largest value");
    case Calibration::Method::Percentile:
        return QStringLiteral("Clip each group's range to the %1th percentile of its values")
            .arg(c->percentile);
    case Calibration::Method::Mse:
        return QStringLiteral("Shrink each group's range to the one with the lowest squared error");
    case Calibration::Method::Hqq:
        return QStringLiteral("Half-quadratic optimisation of each group's zero point (stored as "
                              "fp16)");
    }
    return {};
}

} // namespace qs::choices
