// A strip of the test images where the float and the quantized model disagree, each drawn as
// a thumbnail with both predictions and the true class as its caption.
#pragma once

#include "evaluatejob.h"

#include <QListWidget>

namespace qs {

class AccuracyDisagreements : public QListWidget
{
    Q_OBJECT
public:
    explicit AccuracyDisagreements(QWidget* parent = nullptr);

    // Shows at most `limit` images (the first ones in test order) of a quantized row.
    void setRow(const EvaluateResultsPtr& results, const EvaluateRow* row, int limit = 48);
    int disagreementCount() const { return m_total; } // all of them, not only those shown

    // A grey-scale image of one 28x28 (any H x W) test image, pixels in [0, 1].
    static QImage imageOf(const data::ImageSet& set, std::int64_t index);

private:
    int m_total = 0;
};

} // namespace qs
