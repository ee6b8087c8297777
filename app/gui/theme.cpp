#include "theme.h"

#include <QApplication>
#include <QPalette>
#include <QStyle>
#include <QStyleFactory>

namespace qs::theme {
namespace {
QString g_current = QStringLiteral("system");
QString g_systemStyle;   // the style the application started with
QPalette g_systemPalette;
bool g_captured = false;

QPalette darkPalette()
{
    QPalette p;
    const QColor window(0x2b, 0x2d, 0x30), base(0x1f, 0x21, 0x23), text(0xe6, 0xe6, 0xe6);
    p.setColor(QPalette::Window, window);
    p.setColor(QPalette::WindowText, text);
    p.setColor(QPalette::Base, base);
    p.setColor(QPalette::AlternateBase, QColor(0x27, 0x29, 0x2c));
    p.setColor(QPalette::ToolTipBase, window);
    p.setColor(QPalette::ToolTipText, text);
    p.setColor(QPalette::PlaceholderText, QColor(0x8a, 0x8d, 0x91));
    p.setColor(QPalette::Text, text);
    p.setColor(QPalette::Button, window);
    p.setColor(QPalette::ButtonText, text);
    p.setColor(QPalette::BrightText, Qt::white);
    p.setColor(QPalette::Highlight, QColor(0x3b, 0x75, 0xaf));
    p.setColor(QPalette::HighlightedText, Qt::white);
    p.setColor(QPalette::Link, QColor(0x6c, 0xb4, 0xee));
    p.setColor(QPalette::Mid, QColor(0x4a, 0x4d, 0x51));
    for (auto role : {QPalette::Text, QPalette::WindowText, QPalette::ButtonText})
        p.setColor(QPalette::Disabled, role, QColor(0x7a, 0x7d, 0x81));
    return p;
}
} // namespace

void apply(const QString& name)
{
    if (!g_captured) {
        g_systemStyle = QApplication::style()->name();
        g_systemPalette = QApplication::palette();
        g_captured = true;
    }
    if (name == QLatin1String("light") || name == QLatin1String("dark")) {
        QApplication::setStyle(QStyleFactory::create(QStringLiteral("Fusion")));
        QApplication::setPalette(name == QLatin1String("dark")
                                     ? darkPalette()
                                     : QApplication::style()->standardPalette());
        g_current = name;
        return;
    }
    if (QStyle* s = QStyleFactory::create(g_systemStyle)) QApplication::setStyle(s);
    QApplication::setPalette(g_systemPalette);
    g_current = QStringLiteral("system");
}

QString current()
{
    return g_current;
}

} // namespace qs::theme
