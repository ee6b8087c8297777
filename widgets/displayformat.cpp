#include "displayformat.h"

#include <QCoreApplication>

#include <array>
#include <cmath>

namespace qs::display {

QString notAvailable()
{
    return QStringLiteral("\u2014");
}

QLocale locale()
{
    QLocale l;
    l.setNumberOptions(l.numberOptions() & ~QLocale::OmitGroupSeparator);
    return l;
}

QString count(qint64 n)
{
    return locale().toString(n);
}

QString bytes(quint64 n)
{
    static const std::array<QString, 5> units{QStringLiteral("KiB"), QStringLiteral("MiB"),
                                              QStringLiteral("GiB"), QStringLiteral("TiB"),
                                              QStringLiteral("PiB")};
    if (n < 1024) return QStringLiteral("%1 B").arg(n);
    double v = static_cast<double>(n) / 1024.0;
    std::size_t unit = 0;
    // Switch unit before rounding would print "1024.0 KiB".
    while (v >= 1023.95 && unit + 1 < units.size()) {
        v /= 1024.0;
        ++unit;
    }
    return QStringLiteral("%1 %2").arg(locale().toString(v, 'f', 1), units[unit]);
}

QString exactBytes(quint64 n)
{
    return QStringLiteral("%1 bytes").arg(locale().toString(static_cast<qulonglong>(n)));
}

QString decibels(double db)
{
    return locale().toString(db, 'f', 1);
}

QString signedDecibels(double db)
{
    const QString magnitude = decibels(std::abs(db));
    // Compare what is shown, so that -0.04 does not appear as "-0.0".
    if (magnitude == decibels(0.0)) return magnitude;
    return (db < 0 ? QStringLiteral("\u2212") : QStringLiteral("+")) + magnitude;
}

QString scientific(double v)
{
    if (v == 0.0) return QStringLiteral("0");
    return locale().toString(v, 'e', 2);
}

QString fixed(double v, int decimals)
{
    return locale().toString(v, 'f', decimals);
}

QString savingPercent(quint64 before, quint64 after)
{
    if (before == 0) return notAvailable();
    const double change = (static_cast<double>(after) - static_cast<double>(before)) /
                          static_cast<double>(before) * 100.0;
    const long rounded = std::lround(change);
    if (rounded == 0) return QStringLiteral("\u00b10%");
    return rounded < 0 ? QStringLiteral("\u2212%1%").arg(-rounded)
                       : QStringLiteral("+%1%").arg(rounded);
}

QString sizeChange(quint64 before, quint64 after)
{
    const QString sizes = QStringLiteral("%1 \u2192 %2").arg(bytes(before), bytes(after));
    if (before == 0 || before == after) return sizes;
    const double pct = std::abs(static_cast<double>(after) - static_cast<double>(before)) /
                       static_cast<double>(before) * 100.0;
    const QString word = after < before ? QCoreApplication::translate("qs::display", "smaller")
                                        : QCoreApplication::translate("qs::display", "larger");
    return QStringLiteral("%1 (%2% %3)").arg(sizes).arg(std::lround(pct)).arg(word);
}

} // namespace qs::display
