#include "sizecalculator.h"

#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QTableWidget>
#include <QVBoxLayout>

namespace qs {
namespace {

QTableWidgetItem* item(const QString& text, Qt::Alignment align = Qt::AlignRight)
{
    auto* it = new QTableWidgetItem(text);
    it->setTextAlignment(align | Qt::AlignVCenter);
    it->setFlags(Qt::ItemIsSelectable | Qt::ItemIsEnabled);
    return it;
}

// Digit grouping that reads the same everywhere (tests and screenshots included).
const QLocale& grouping()
{
    static const QLocale english(QLocale::English, QLocale::UnitedStates);
    return english;
}

// The smallest GPU and the smallest RAM size that hold the weights; the list is smallest first.
QString fitsText(const std::vector<MemoryBudget>& fits)
{
    QString gpu, ram;
    for (const auto& b : fits) {
        QString& slot = b.kind == MemoryBudget::Kind::Gpu ? gpu : ram;
        if (slot.isEmpty()) slot = QString::fromStdString(b.label());
    }
    if (gpu.isEmpty() && ram.isEmpty()) return SizeCalculator::tr("none of the sizes listed");
    if (gpu.isEmpty() || ram.isEmpty()) return gpu.isEmpty() ? ram : gpu;
    return SizeCalculator::tr("%1 or %2").arg(gpu, ram);
}

QString budgetList(const std::vector<MemoryBudget>& budgets, MemoryBudget::Kind kind)
{
    QStringList sizes;
    for (const auto& b : budgets)
        if (b.kind == kind) sizes << QString::number(b.gigabytes);
    return sizes.join(QStringLiteral(", "));
}

} // namespace

SizeCalculator::SizeCalculator(QWidget* parent)
    : QWidget(parent), m_params(new QLineEdit(QStringLiteral("7B"))), m_error(new QLabel),
      m_summary(new QLabel), m_table(new QTableWidget(0, ColumnCount)), m_note(new QLabel)
{
    m_params->setObjectName(QStringLiteral("params"));
    m_params->setMaximumWidth(160);
    m_params->setToolTip(tr("A parameter count: 123456, 30e9, 2.5k, 1.5M, 7B, 1T"));
    auto* inputs = new QHBoxLayout;
    inputs->addWidget(new QLabel(tr("Parameters")));
    inputs->addWidget(m_params);
    inputs->addSpacing(16);
    inputs->addWidget(m_summary, 1);

    m_error->setObjectName(QStringLiteral("error"));
    m_error->setStyleSheet(QStringLiteral("color: #c0392b"));
    m_error->setWordWrap(true);
    m_error->hide();
    m_summary->setObjectName(QStringLiteral("summary"));

    m_table->setObjectName(QStringLiteral("sizes"));
    m_table->setHorizontalHeaderLabels(
        {tr("Format"), tr("Bits per weight"), tr("Bytes"), tr("GB"), tr("Fits in (smallest)")});
    m_table->verticalHeader()->hide();
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_table->horizontalHeader()->setStretchLastSection(true);
    m_table->verticalHeader()->setDefaultSectionSize(fontMetrics().height() + 6);

    m_note->setObjectName(QStringLiteral("note"));
    m_note->setWordWrap(true);

    auto* layout = new QVBoxLayout(this);
    layout->addLayout(inputs);
    layout->addWidget(m_error);
    layout->addWidget(m_table, 1);
    layout->addWidget(m_note);

    connect(m_params, &QLineEdit::textChanged, this, &SizeCalculator::requestCurrent);
}

void SizeCalculator::requestCurrent()
{
    emit requestSizes(m_params->text());
}

void SizeCalculator::setError(const QString& message)
{
    m_error->setText(message);
    m_error->show();
    m_table->setEnabled(false);
}

void SizeCalculator::setTable(const SizeTable& table)
{
    m_error->hide();
    m_table->setEnabled(true);
    m_summary->setText(tr("%1 parameters: weights in GB of 10⁹ bytes")
                           .arg(grouping().toString(static_cast<qlonglong>(table.params))));
    m_table->setRowCount(int(table.rows.size()));
    for (int r = 0; r < m_table->rowCount(); ++r) {
        const SizeRow& row = table.rows[std::size_t(r)];
        auto* name = item(QString::fromStdString(row.name), Qt::AlignLeft);
        name->setToolTip(QString::fromStdString(row.family));
        m_table->setItem(r, FormatColumn, name);
        m_table->setItem(r, BitsColumn, item(QString::number(row.bitsPerWeight, 'g', 8)));
        m_table->setItem(r, BytesColumn, item(grouping().toString(row.bytes, 'f', 0)));
        m_table->setItem(r, GigabytesColumn, item(QString::number(row.bytes / 1e9, 'f', 3)));
        auto* fits = item(fitsText(row.fits), Qt::AlignLeft);
        if (row.fits.empty()) fits->setForeground(QColor(0xc0, 0x39, 0x2b));
        m_table->setItem(r, FitsColumn, fits);
    }
    m_note->setText(tr("%1 Checked against %2 GB GPUs and %3 GB of RAM (binary gigabytes, as "
                       "memory is sold).")
                        .arg(QString::fromStdString(table.note),
                             budgetList(table.budgets, MemoryBudget::Kind::Gpu),
                             budgetList(table.budgets, MemoryBudget::Kind::Ram)));
}

} // namespace qs
