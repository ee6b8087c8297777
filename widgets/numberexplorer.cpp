#include "numberexplorer.h"

#include <QFontDatabase>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QPainter>
#include <QSplitter>
#include <QStyledItemDelegate>
#include <QTableWidget>
#include <QVBoxLayout>

#include <qcustomplot.h>

#include <cmath>

namespace qs {
namespace {

// One colour per kind of bit field; the legend above the table uses the same ones.
QColor fieldColor(QChar kind)
{
    switch (kind.unicode()) {
    case 's':
        return QColor(0xc0, 0x39, 0x2b); // sign
    case 'e':
        return QColor(0x1e, 0x84, 0x49); // exponent
    case 'm':
        return QColor(0x24, 0x71, 0xa3); // mantissa
    default:
        return QColor(0x7d, 0x3c, 0x98); // integer code
    }
}

constexpr int kFieldKindsRole = Qt::UserRole + 1;

// The field kind of every character of ExplainedFormat::bits ('s', 'e', 'm', 'i'; ' ' between
// fields), so the delegate can colour each bit without knowing the format.
QString fieldKinds(const ExplainedFormat& f)
{
    QString kinds;
    for (const auto& field : f.fields) {
        if (!kinds.isEmpty()) kinds += QLatin1Char(' ');
        const char c = field.kind == BitField::Kind::Sign       ? 's'
                       : field.kind == BitField::Kind::Exponent ? 'e'
                       : field.kind == BitField::Kind::Mantissa ? 'm'
                                                                : 'i';
        kinds += QString(field.width, QLatin1Char(c));
    }
    return kinds;
}

// Paints the bit string in a fixed-width font, each field in its colour.
class BitsDelegate : public QStyledItemDelegate
{
public:
    using QStyledItemDelegate::QStyledItemDelegate;

    void paint(QPainter* p, const QStyleOptionViewItem& option,
               const QModelIndex& index) const override
    {
        QStyleOptionViewItem opt = option;
        initStyleOption(&opt, index);
        const QString bits = opt.text;
        const QString kinds = index.data(kFieldKindsRole).toString();
        opt.text.clear();
        opt.widget->style()->drawControl(QStyle::CE_ItemViewItem, &opt, p, opt.widget);
        p->save();
        p->setFont(opt.font);
        const QFontMetrics fm(opt.font);
        int x = opt.rect.left() + 4;
        const int y = opt.rect.top() + (opt.rect.height() + fm.ascent() - fm.descent()) / 2;
        const bool enabled = opt.state & QStyle::State_Enabled;
        // On the selection's dark background the field colours need to be much lighter.
        const bool selected = opt.state & QStyle::State_Selected;
        for (int i = 0; i < bits.size(); ++i) {
            QColor c = fieldColor(i < kinds.size() ? kinds[i] : QLatin1Char('i'));
            if (selected) c = c.lighter(230);
            if (!enabled) c.setAlpha(110);
            p->setPen(c);
            p->drawText(x, y, QString(bits[i]));
            x += fm.horizontalAdvance(bits[i]);
        }
        p->restore();
    }
};

QString num(double v)
{
    return QString::number(v, 'g', QLocale::FloatingPointShortest);
}

QString shortNum(double v)
{
    return QString::number(v, 'g', 6);
}

std::optional<double> parse(const QLineEdit* edit)
{
    bool ok = false;
    const double v = QLocale::c().toDouble(edit->text().trimmed(), &ok);
    return ok ? std::optional<double>(v) : std::nullopt;
}

QTableWidgetItem* item(const QString& text, Qt::Alignment align = Qt::AlignRight)
{
    auto* it = new QTableWidgetItem(text);
    it->setTextAlignment(align | Qt::AlignVCenter);
    it->setFlags(Qt::ItemIsSelectable | Qt::ItemIsEnabled);
    return it;
}

QString codeText(const ExplainedFormat& f)
{
    if (f.mapping) return QString::number(f.code);
    return QStringLiteral("0x") + QString::number(f.code, 16).toUpper();
}

QString legendHtml()
{
    const auto swatch = [](char kind, const QString& name) {
        return QStringLiteral("<span style='color:%1'>&#9632;</span>&nbsp;%2")
            .arg(fieldColor(QLatin1Char(kind)).name(), name);
    };
    return NumberExplorer::tr("Bits: %1 &nbsp; %2 &nbsp; %3 &nbsp; %4")
        .arg(swatch('s', NumberExplorer::tr("sign")), swatch('e', NumberExplorer::tr("exponent")),
             swatch('m', NumberExplorer::tr("mantissa")),
             swatch('i', NumberExplorer::tr("integer code")));
}

QLineEdit* numberEdit(const QString& text, const QString& name)
{
    auto* e = new QLineEdit(text);
    e->setObjectName(name);
    e->setMaximumWidth(160);
    return e;
}

} // namespace

NumberExplorer::NumberExplorer(QWidget* parent)
    : QWidget(parent), m_value(numberEdit(QStringLiteral("0.87654321"), QStringLiteral("value"))),
      m_low(numberEdit(QStringLiteral("-1"), QStringLiteral("rangeLow"))),
      m_high(numberEdit(QStringLiteral("1"), QStringLiteral("rangeHigh"))), m_error(new QLabel),
      m_table(new QTableWidget(0, ColumnCount)), m_line(new QCustomPlot), m_rangeText(new QLabel)
{
    auto* inputs = new QHBoxLayout;
    inputs->addWidget(new QLabel(tr("Value")));
    inputs->addWidget(m_value);
    inputs->addSpacing(16);
    inputs->addWidget(new QLabel(tr("Integer range from")));
    inputs->addWidget(m_low);
    inputs->addWidget(new QLabel(tr("to")));
    inputs->addWidget(m_high);
    inputs->addStretch(1);
    m_value->setToolTip(tr("Any real number, e.g. 0.1, -3e-5, 65520, inf"));
    m_low->setToolTip(tr("Integer formats map this range onto their codes. A range symmetric "
                         "around 0 uses int8/int4, any other range the affine uint8/uint4."));
    m_high->setToolTip(m_low->toolTip());

    m_error->setObjectName(QStringLiteral("error"));
    m_error->setStyleSheet(QStringLiteral("color: #c0392b"));
    m_error->setWordWrap(true);
    m_error->hide();

    auto* legend = new QLabel(legendHtml());
    legend->setTextFormat(Qt::RichText);

    m_table->setObjectName(QStringLiteral("formats"));
    m_table->setHorizontalHeaderLabels(
        {tr("Format"), tr("Bits"), tr("Code"), tr("Decoded"), tr("Abs error"), tr("Rel error")});
    m_table->verticalHeader()->hide();
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->setItemDelegateForColumn(BitsColumn, new BitsDelegate(m_table));
    m_table->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_table->horizontalHeader()->setSectionResizeMode(BitsColumn, QHeaderView::Stretch);
    m_table->verticalHeader()->setDefaultSectionSize(fontMetrics().height() + 8);

    m_line->setObjectName(QStringLiteral("numberLine"));
    m_line->setMinimumHeight(200);
    m_line->yAxis->setVisible(false);
    m_line->yAxis->setRange(-1.2, 1.3);
    // Points carry exact labels; tick labels would round them, and the baseline is an item.
    m_line->xAxis->setVisible(false);
    m_line->xAxis->grid()->setVisible(false);
    m_line->plotLayout()->insertRow(0);
    m_line->plotLayout()->addElement(0, 0, new QCPTextElement(m_line, QString()));

    m_rangeText->setObjectName(QStringLiteral("rangeExplanation"));
    m_rangeText->setWordWrap(true);
    m_rangeText->setTextFormat(Qt::PlainText);

    auto* splitter = new QSplitter(Qt::Vertical);
    splitter->addWidget(m_table);
    splitter->addWidget(m_line);
    splitter->setStretchFactor(0, 1);
    splitter->setStretchFactor(1, 1);

    auto* layout = new QVBoxLayout(this);
    layout->addLayout(inputs);
    layout->addWidget(m_error);
    layout->addWidget(legend);
    layout->addWidget(splitter, 1);
    layout->addWidget(m_rangeText);

    for (auto* e : {m_value, m_low, m_high})
        connect(e, &QLineEdit::textChanged, this, &NumberExplorer::requestCurrent);
    connect(m_table, &QTableWidget::currentCellChanged, this, [this] { updateNumberLine(); });
}

void NumberExplorer::requestCurrent()
{
    const auto value = parse(m_value), lo = parse(m_low), hi = parse(m_high);
    if (!value)
        setError(tr("Value: '%1' is not a number").arg(m_value->text()));
    else if (!lo || !hi)
        setError(tr("Range: '%1' is not a number").arg((!lo ? m_low : m_high)->text()));
    else
        emit requestExplain(*value, *lo, *hi);
}

void NumberExplorer::setError(const QString& message)
{
    m_error->setText(message);
    m_error->show();
    m_table->setEnabled(false);
}

QString NumberExplorer::selectedFormat() const
{
    const auto* it = m_table->item(m_table->currentRow(), FormatColumn);
    return it ? it->text() : QString();
}

void NumberExplorer::selectFormat(const QString& name)
{
    for (int r = 0; r < m_table->rowCount(); ++r)
        if (m_table->item(r, FormatColumn)->text() == name) m_table->selectRow(r);
}

void NumberExplorer::setExplanation(const Explanation& explanation)
{
    m_shown = explanation;
    m_error->hide();
    m_table->setEnabled(true);
    // Keep the row: the integer rows change name (int8 <-> uint8) with the range.
    const int keep = m_table->currentRow() >= 0 ? m_table->currentRow() : 1;
    const QFont mono = QFontDatabase::systemFont(QFontDatabase::FixedFont);
    m_table->blockSignals(true); // one number-line update below, not one per cell
    m_table->setRowCount(int(explanation.formats.size()));
    for (int r = 0; r < m_table->rowCount(); ++r) {
        const ExplainedFormat& f = explanation.formats[std::size_t(r)];
        m_table->setItem(r, FormatColumn, item(QString::fromStdString(f.name), Qt::AlignLeft));
        auto* bits = item(QString::fromStdString(f.bits), Qt::AlignLeft);
        bits->setData(kFieldKindsRole, fieldKinds(f));
        bits->setFont(mono);
        m_table->setItem(r, BitsColumn, bits);
        m_table->setItem(r, CodeColumn, item(codeText(f)));
        auto* decoded = item(num(f.decoded));
        if (f.outOfRange) {
            decoded->setForeground(QColor(0xc0, 0x39, 0x2b));
            decoded->setToolTip(tr("%1 is beyond what %2 can hold: it was clamped to its largest "
                                   "value (or became infinite)")
                                    .arg(num(explanation.value), QString::fromStdString(f.name)));
        }
        m_table->setItem(r, DecodedColumn, decoded);
        m_table->setItem(r, AbsErrorColumn, item(shortNum(f.absError)));
        m_table->setItem(r, RelErrorColumn, item(shortNum(f.relError)));
    }
    m_table->setCurrentCell(std::min(keep, m_table->rowCount() - 1), FormatColumn);
    m_table->blockSignals(false);
    // Just tall enough for its rows, so the number line gets the rest of the panel.
    m_table->setMaximumHeight(m_table->horizontalHeader()->sizeHint().height() +
                              m_table->rowCount() *
                                  m_table->verticalHeader()->defaultSectionSize() +
                              2 * m_table->frameWidth() + 2);
    updateNumberLine();
    updateRangeText();
}

void NumberExplorer::updateNumberLine()
{
    m_line->clearGraphs();
    m_line->clearItems();
    auto* title = static_cast<QCPTextElement*>(m_line->plotLayout()->element(0, 0));
    const int row = m_table->currentRow();
    if (!m_shown || row < 0 || row >= int(m_shown->formats.size())) {
        title->setText(QString());
        m_line->replot();
        return;
    }
    const ExplainedFormat& f = m_shown->formats[std::size_t(row)];
    const double x = m_shown->value;
    const QString name = QString::fromStdString(f.name);
    if (!std::isfinite(f.decoded) || !std::isfinite(x)) {
        title->setText(tr("%1: %2 becomes %3; the number line shows finite values only")
                           .arg(name, num(x), num(f.decoded)));
        m_line->replot();
        return;
    }
    title->setText(tr("%1: %2 is stored as %3\ndots: neighbouring values %1 can hold; dashed: "
                      "halfway points where rounding switches")
                       .arg(name, num(x), num(f.decoded)));

    double lo = std::min(x, f.decoded), hi = std::max(x, f.decoded);
    QVector<double> neighbours;
    for (const auto& n : {f.below, f.above})
        if (n) {
            neighbours << *n;
            lo = std::min(lo, *n);
            hi = std::max(hi, *n);
        }
    const double span = hi > lo ? hi - lo : std::max(std::fabs(x), 1.0);
    m_line->xAxis->setRange(lo - 0.15 * span, hi + 0.15 * span);

    auto* axis = new QCPItemStraightLine(m_line);
    axis->point1->setCoords(0, 0);
    axis->point2->setCoords(1, 0);
    axis->setPen(QPen(Qt::gray));
    const auto label = [this](double px, double py, const QString& text, const QColor& color) {
        auto* t = new QCPItemText(m_line);
        t->position->setCoords(px, py);
        t->setText(text);
        t->setColor(color);
        return t;
    };
    const auto vline = [this](double px, double y0, double y1, const QPen& pen) {
        auto* l = new QCPItemLine(m_line);
        l->start->setCoords(px, y0);
        l->end->setCoords(px, y1);
        l->setPen(pen);
    };
    const QColor grid(0x56, 0x65, 0x73), stored(0x24, 0x71, 0xa3), value(0xc0, 0x39, 0x2b);

    auto* others = m_line->addGraph();
    others->setLineStyle(QCPGraph::lsNone);
    others->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, grid, Qt::white, 9));
    others->setData(neighbours, QVector<double>(neighbours.size(), 0.0));
    for (double n : neighbours) {
        label(n, -0.55, num(n), grid);
        vline(0.5 * (n + f.decoded), -0.35, 0.35, QPen(Qt::gray, 1, Qt::DashLine));
    }
    auto* chosen = m_line->addGraph();
    chosen->setLineStyle(QCPGraph::lsNone);
    chosen->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, stored, 11));
    chosen->setData({f.decoded}, {0.0});
    label(f.decoded, -0.85, tr("stored: %1").arg(num(f.decoded)), stored);

    vline(x, -0.25, 0.75, QPen(value, 2));
    label(x, 0.95, tr("value %1").arg(num(x)), value);
    m_line->replot();
}

void NumberExplorer::updateRangeText()
{
    const ExplainedFormat* wide = nullptr;
    const ExplainedFormat* narrow = nullptr;
    for (const auto& f : m_shown->formats)
        if (f.mapping) (f.fields.front().width == 8 ? wide : narrow) = &f;
    if (!wide || !narrow) {
        m_rangeText->clear();
        return;
    }
    const IntegerMapping& m = *wide->mapping;
    const QString x = num(m_shown->value), name = QString::fromStdString(wide->name);
    const QString lo = num(m_shown->range.lo), hi = num(m_shown->range.hi);
    QString text;
    if (!m.affine) {
        text = tr("Range [%1, %2] is symmetric around 0, so %3 uses the scale s = %2 / %4 = %5 and "
                  "no zero point: %6 / s = %7 rounds to code %8, which decodes to %8 × s = %9.")
                   .arg(lo, hi, name, QString::number(m.qmax), shortNum(m.scale), x,
                        shortNum(m.unrounded), QString::number(wide->code), num(wide->decoded));
    } else {
        text = tr("Range [%1, %2] is not symmetric, so %3 is affine: s = (%4 − %5) / %6 = %7 and "
                  "zero point z = %8; %9 / s + z = %10 rounds to code %11, which decodes to "
                  "(%11 − z) × s = %12.")
                   .arg(lo, hi, name, num(m.rangeHi), num(m.rangeLo), QString::number(m.qmax),
                        shortNum(m.scale), QString::number(m.zeroPoint), x)
                   .arg(shortNum(m.unrounded), QString::number(wide->code), num(wide->decoded));
        if (m.rangeLo != m_shown->range.lo || m.rangeHi != m_shown->range.hi)
            text += tr(" The range is widened to [%1, %2] so that 0 stays exact.")
                        .arg(num(m.rangeLo), num(m.rangeHi));
    }
    if (wide->outOfRange) text += tr(" %1 lies outside the range, so the code is clamped.").arg(x);
    text += tr(" With 4 bits (%1) s = %2 and the code is %3. Another range gives another s, so the "
               "same value lands on another code.")
                .arg(QString::fromStdString(narrow->name), shortNum(narrow->mapping->scale),
                     QString::number(narrow->code));
    m_rangeText->setText(text);
}

} // namespace qs
