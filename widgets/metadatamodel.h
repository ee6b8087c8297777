// The open model's metadata (GGUF key/values, safetensors __metadata__, ONNX producer, ...) as
// a two-column table.
#pragma once

#include <QAbstractTableModel>

#include <string>
#include <utility>
#include <vector>

namespace qs {

class Document;

class MetadataModel : public QAbstractTableModel
{
    Q_OBJECT
public:
    enum Column { KeyColumn, ValueColumn, ColumnCount };

    explicit MetadataModel(Document* document, QObject* parent = nullptr);

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;

private:
    void reload();

    Document* m_document;
    std::vector<std::pair<std::string, std::string>> m_rows; // a snapshot: the model is immutable
};

} // namespace qs
