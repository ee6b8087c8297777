// Edits the active plan's ordered rules (regex → precision) with live match counts; OK applies
// them as one undoable edit.
#pragma once

#include <QDialog>

class QLabel;
class QPushButton;
class QTableView;

namespace qs {

class Document;
class RulesModel;

class RulesEditor : public QDialog
{
    Q_OBJECT
public:
    explicit RulesEditor(Document* document, QWidget* parent = nullptr);

    RulesModel* rulesModel() const { return m_model; }
    QTableView* view() const { return m_view; }
    QPushButton* addButton() const { return m_add; }
    QPushButton* okButton() const { return m_ok; }
    QLabel* problemLabel() const { return m_problem; }

    void accept() override; // applies the rules to the document

private:
    void updateState();
    int currentRule() const;

    Document* m_document;
    RulesModel* m_model;
    QTableView* m_view;
    QPushButton* m_add;
    QPushButton* m_remove;
    QPushButton* m_up;
    QPushButton* m_down;
    QPushButton* m_ok;
    QLabel* m_problem;
};

} // namespace qs
