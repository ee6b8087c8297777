#include "ruleseditor.h"

#include "core/error.h"
#include "document.h"
#include "precisiondelegate.h"
#include "rulesmodel.h"

#include <QDialogButtonBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QPushButton>
#include <QTableView>
#include <QVBoxLayout>

namespace qs {

RulesEditor::RulesEditor(Document* document, QWidget* parent)
    : QDialog(parent), m_document(document), m_model(new RulesModel(document, this)),
      m_view(new QTableView(this)), m_add(new QPushButton(tr("&Add rule"), this)),
      m_remove(new QPushButton(tr("&Remove"), this)), m_up(new QPushButton(tr("Move &up"), this)),
      m_down(new QPushButton(tr("Move &down"), this)), m_problem(new QLabel(this))
{
    setObjectName(QStringLiteral("rulesEditor"));
    setWindowTitle(tr("Rules of plan %1").arg(document->planName(document->activePlan())));
    m_model->setRules(document->plan().rules);

    auto* intro = new QLabel(
        tr("Each tensor takes the precision of the <b>first</b> rule whose regular expression "
           "is found in its name, unless it has a precision of its own. Tensors no rule "
           "matches take the plan's default. Example: <code>attn_v|v_proj</code> \u2192 q6_K."),
        this);
    intro->setWordWrap(true);

    m_view->setObjectName(QStringLiteral("rulesView"));
    m_view->setModel(m_model);
    m_view->setItemDelegate(new PrecisionDelegate(RulesModel::FormatColumn,
                                                  RulesModel::GranularityColumn,
                                                  RulesModel::CalibrationColumn, m_view));
    m_view->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_view->setSelectionMode(QAbstractItemView::SingleSelection);
    m_view->horizontalHeader()->setSectionResizeMode(RulesModel::MatchColumn,
                                                     QHeaderView::Stretch);
    m_view->setEditTriggers(QAbstractItemView::AllEditTriggers);

    m_problem->setObjectName(QStringLiteral("rulesProblem"));
    m_problem->setWordWrap(true);
    m_problem->setStyleSheet(QStringLiteral("color: #c0392b"));

    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    m_ok = buttons->button(QDialogButtonBox::Ok);
    connect(buttons, &QDialogButtonBox::accepted, this, &RulesEditor::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &RulesEditor::reject);

    connect(m_add, &QPushButton::clicked, this, [this] {
        m_model->addRule({"attn_v|v_proj", Precision{"int8"}});
        const QModelIndex match = m_model->index(m_model->rowCount() - 1, RulesModel::MatchColumn);
        m_view->setCurrentIndex(match);
        m_view->edit(match);
    });
    connect(m_remove, &QPushButton::clicked, this,
            [this] { m_model->removeRule(currentRule()); });
    connect(m_up, &QPushButton::clicked, this, [this] {
        const int r = currentRule();
        m_model->moveRule(r, r - 1);
        m_view->selectRow(r - 1);
    });
    connect(m_down, &QPushButton::clicked, this, [this] {
        const int r = currentRule();
        m_model->moveRule(r, r + 1);
        m_view->selectRow(r + 1);
    });
    connect(m_model, &RulesModel::rulesEdited, this, &RulesEditor::updateState);
    connect(m_model, &QAbstractItemModel::modelReset, this, &RulesEditor::updateState);
    connect(m_view->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
            &RulesEditor::updateState);

    auto* side = new QVBoxLayout;
    for (QPushButton* b : {m_add, m_remove, m_up, m_down})
        side->addWidget(b);
    side->addStretch(1);
    auto* middle = new QHBoxLayout;
    middle->addWidget(m_view, 1);
    middle->addLayout(side);
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(intro);
    layout->addLayout(middle, 1);
    layout->addWidget(m_problem);
    layout->addWidget(buttons);
    resize(760, 420);
    updateState();
}

int RulesEditor::currentRule() const
{
    const QModelIndex i = m_view->currentIndex();
    return i.isValid() ? i.row() : -1;
}

void RulesEditor::updateState()
{
    const int r = currentRule();
    m_remove->setEnabled(r >= 0);
    m_up->setEnabled(r > 0);
    m_down->setEnabled(r >= 0 && r + 1 < m_model->rowCount());
    m_problem->setText(m_model->problem());
    m_problem->setVisible(!m_model->problem().isEmpty());
    m_ok->setEnabled(m_model->problem().isEmpty());
}

void RulesEditor::accept()
{
    if (!m_model->problem().isEmpty()) return;
    try {
        if (m_model->rules() != m_document->plan().rules) m_document->setRules(m_model->rules());
    } catch (const Error& e) {
        m_problem->setText(QString::fromUtf8(e.what()));
        m_problem->show();
        return;
    }
    QDialog::accept();
}

} // namespace qs
