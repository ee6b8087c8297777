// How numbers are shown to a person: counts, byte sizes, decibels and small errors.
#pragma once

#include <QLocale>
#include <QString>

namespace qs::display {

// The placeholder for a value that is not computed yet or does not apply.
QString notAvailable();

// The user's locale, with thousands separators forced on (the C locale omits them).
QLocale locale();

QString count(qint64 n);       // "45,088,768"
QString bytes(quint64 n);      // "512 B", "36.0 KiB", "1.2 GiB"
QString exactBytes(quint64 n); // "36,864 bytes", for tooltips
QString decibels(double db);   // "41.3"
// A difference in dB with its sign: "+1.2", "−1.9" (a real minus sign), "0.0".
QString signedDecibels(double db);
QString scientific(double v); // "1.23e-05"; "0" for exactly zero
QString fixed(double v, int decimals);
// "12.3 MiB → 3.2 MiB (74% smaller)"; says "larger" when the plan grows the model.
QString sizeChange(quint64 before, quint64 after);
// The saving as a signed percentage, e.g. "−74%" (a real minus sign) or "+5%".
QString savingPercent(quint64 before, quint64 after);

} // namespace qs::display
