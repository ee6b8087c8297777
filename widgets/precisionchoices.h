// The precisions a person can pick in the GUI, named as the plan names them.
#pragma once

#include "formats/calibration.h"
#include "formats/format.h"

#include <QString>
#include <QStringList>

#include <optional>

namespace qs::choices {

QString keepName();                             // "keep": leave the tensor at its stored precision
QStringList formatNames();                      // "keep" followed by every registry format
QStringList granularityPresets();               // tensor, channel and the common group sizes
QString formatDescription(const QString& name); // for tooltips; empty when unknown
bool isKnownFormat(const QString& name);        // "keep" or a registry format
// Only integer formats have scales, so only they have a granularity to choose.
bool hasGranularity(const QString& formatName);
std::optional<Granularity> parseGranularity(const QString& text);
QString granularityName(const Granularity& g);

// Calibration applies to the integer formats only, which are also the ones with an ideal SQNR.
bool hasCalibration(const QString& formatName);
// minmax, two percentiles and mse; hqq as well for affine (uintN) formats, the only ones whose
// zero point it can move. Empty for formats without calibration.
QStringList calibrationChoices(const QString& formatName);
// Whether `text` names a calibration that may be set on a tensor of this format.
std::optional<Calibration> parseCalibration(const QString& text, const QString& formatName);
QString calibrationName(const Calibration& c);
QString calibrationDescription(const QString& text); // for tooltips; empty when unknown

} // namespace qs::choices
