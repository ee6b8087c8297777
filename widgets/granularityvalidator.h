// Validates typed granularities ("tensor", "channel", "group:N") while they are being typed.
#pragma once

#include <QValidator>

namespace qs {

class GranularityValidator : public QValidator
{
    Q_OBJECT
public:
    using QValidator::QValidator;
    State validate(QString& input, int& pos) const override;
};

} // namespace qs
