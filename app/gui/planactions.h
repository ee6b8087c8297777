// The Edit and Plan menus and the selection toolbar: undo/redo, presets, the rules editor,
// locking and applying a precision to the selected layers.
#pragma once

#include <QObject>
#include <QVector>

class QAction;
class QLabel;
class QMainWindow;
class QMenu;
class QPushButton;
class QToolBar;

namespace qs {

class Document;
class LayerBrowser;
class PrecisionPicker;

class PlanActions : public QObject
{
    Q_OBJECT
public:
    PlanActions(Document* document, LayerBrowser* browser, QMainWindow* window);

    QAction* undoAction() const { return m_undo; }
    QAction* redoAction() const { return m_redo; }
    QAction* applyAction() const { return m_apply; }
    QAction* lockAction() const { return m_lock; }
    QAction* rulesAction() const { return m_rules; }
    QMenu* presetsMenu() const { return m_presets; }
    PrecisionPicker* selectionPicker() const { return m_picker; }
    QToolBar* selectionBar() const { return m_bar; }

    void applyToSelection();
    void toggleLockOfSelection();
    void applyPreset(const QString& id);
    void editRules();

private:
    void onSelectionChanged(const QVector<int>& rows);

    Document* m_document;
    LayerBrowser* m_browser;
    QMainWindow* m_window;
    QAction* m_undo;
    QAction* m_redo;
    QAction* m_apply;
    QAction* m_lock;
    QAction* m_rules;
    QMenu* m_presets;
    PrecisionPicker* m_picker;
    QToolBar* m_bar;
    QLabel* m_count;
};

} // namespace qs
