// The precisions a person can pick in the GUI, named as the plan names them.
#pragma once

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

} // namespace qs::choices
