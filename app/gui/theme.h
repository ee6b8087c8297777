// Light and dark palettes for the whole application (View > Theme), remembered in QSettings.
#pragma once

#include <QString>

namespace qs::theme {

// "system" (the platform's style and palette), "light" or "dark" (Fusion with a light or dark
// palette). Unknown names fall back to "system".
void apply(const QString& name);
QString current();

} // namespace qs::theme
