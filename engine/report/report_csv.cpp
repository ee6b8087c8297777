// The CSV report and the atomic writer every report file goes through.
#include "export/export_detail.h"
#include "report/report_row.h"
#include "report/reports.h"

#include <charconv>

namespace qs {
namespace {

// RFC 4180: a field holding a comma, a quote or a line break is quoted, quotes doubled.
void field(std::string& out, const std::string& s)
{
    if (s.find_first_of(",\"\r\n") == std::string::npos) {
        out += s;
        return;
    }
    out += '"';
    for (const char c : s) {
        if (c == '"') out += '"';
        out += c;
    }
    out += '"';
}

template <typename T> void number(std::string& out, const T& v)
{
    char buf[64];
    const auto r = std::to_chars(buf, buf + sizeof buf, v); // shortest round-trip form
    out.append(buf, r.ptr);
}

void number(std::string& out, const std::optional<double>& v)
{
    if (v) number(out, *v);
}

} // namespace

std::string csvReport(std::span<const TensorOutcome> outcomes)
{
    std::string out = "name,format,granularity,channel_axis,params,bytes_before,bytes_after,"
                      "bits_per_weight,mse,rmse,sqnr_db,max_abs_error,cosine\r\n";
    for (const auto& o : outcomes) {
        const ReportRow r = reportRow(o);
        field(out, r.name);
        out += ',';
        field(out, r.format);
        out += ',';
        field(out, r.granularity.value_or(""));
        out += ',';
        number(out, r.channelAxis);
        out += ',';
        number(out, r.params);
        out += ',';
        number(out, r.bytesBefore);
        out += ',';
        number(out, r.bytesAfter);
        out += ',';
        number(out, r.bitsPerWeight);
        for (const auto& v : {r.mse, r.rmse, r.sqnrDb, r.maxAbsError, r.cosine}) {
            out += ',';
            number(out, v);
        }
        out += "\r\n";
    }
    return out;
}

void writeReportFile(const std::string& path, const std::string& text)
{
    exporting::PartFile part(path, ".part");
    part.write(text.data(), text.size());
    part.commit();
}

} // namespace qs
