#include "protocols/mysql/response.h"

#include <string>

#include "protocols/mysql/decode.h"
#include "protocols/text.h"

namespace reel::protocols::mysql {

namespace {

// Statements remembered per connection: drivers that never close them must not grow us.
constexpr std::size_t kMaxStatements = 1024;

void record_ok(const Packet& p, Exchange& e) {
  Ok ok = ok_packet(p);
  if (e.status_text.empty()) e.status_text = "OK";
  e.fields["mysql.affected_rows"] = std::to_string(ok.affected_rows);
  if (ok.last_insert_id) e.fields["mysql.last_insert_id"] = std::to_string(ok.last_insert_id);
  if (ok.warnings) e.fields["mysql.warnings"] = std::to_string(ok.warnings);
}

void record_err(const Packet& p, Exchange& e) {
  Err err = err_packet(p);
  e.status = err.code;
  e.status_text = "ERR";
  e.error = "ERROR " + std::to_string(err.code) + " (" + err.sql_state + "): " + err.message;
}

bool extended_metadata(const StitchState& state) {
  return state.caps_known &&
         (state.server_mariadb_caps & state.client_mariadb_caps & kMariadbExtendedMetadata);
}

// A definition packet: keep its name (result columns) and type (for binary rows).
void record_column(ResponseReader& reader, const Packet& p, const StitchState& state, Exchange& e,
                   const Limits& limits, bool result_column) {
  if (!result_column) return;
  ColumnDef c = column_def(p, extended_metadata(state));
  if (reader.column_types.size() < limits.max_items) reader.column_types.push_back(c.type);
  std::string& columns = e.fields["mysql.columns"];
  if (!columns.empty()) columns += '\t';
  append_capped(columns, c.name, limits.max_field);
}

Progress end_of_rows(ResponseReader& reader, const Packet& p) {
  if (eof_status(p) & kServerMoreResultsExist) {
    reader.step = Step::kFirst;
    reader.column_types.clear();
    return Progress::kMore;
  }
  return Progress::kDone;
}

// COM_STMT_PREPARE's OK: the statement's id and how many definitions follow.
Progress prepare_ok_packet(ResponseReader& reader, const Packet& p, StitchState& state,
                           Exchange& e) {
  PrepareOk ok = prepare_ok(p);
  e.status_text = "OK";
  e.fields["mysql.statement_id"] = std::to_string(ok.statement_id);
  e.fields["mysql.params"] = std::to_string(ok.params);
  bool room = state.statements.size() < kMaxStatements || state.statements.count(ok.statement_id);
  if (state.preparing && room) {
    state.statements[ok.statement_id] = Statement{*state.preparing, ok.params, {}};
  }
  reader.prep_columns = ok.columns;
  reader.remaining = ok.params ? ok.params : ok.columns;
  if (ok.params) {
    reader.step = Step::kPrepParams;
  } else if (ok.columns) {
    reader.step = Step::kPrepColumns;
  }
  return (ok.params || ok.columns) ? Progress::kMore : Progress::kDone;
}

Progress first_packet(ResponseReader& reader, const Packet& p, StitchState& state, Exchange& e,
                      const Limits& limits) {
  if (is_err(p)) {
    record_err(p, e);
    return Progress::kDone;
  }
  if (reader.command == kComStmtPrepare && is_ok(p)) return prepare_ok_packet(reader, p, state, e);
  if (is_ok(p)) {
    record_ok(p, e);
    return end_of_rows(reader, p);
  }
  if (reader.command == kComChangeUser) {
    reader.step = Step::kUntilOkOrErr;  // an auth switch: the client answers, then OK or ERR
    return Progress::kMore;
  }
  if (is_eof(p) || reader.command == kComStatistics) return Progress::kDone;
  if (reader.command == kComFieldList) {
    reader.step = Step::kFieldList;
    record_column(reader, p, state, e, limits, true);
    return Progress::kMore;
  }
  if (static_cast<std::uint8_t>(p.payload.empty() ? 0 : p.payload[0]) == 0xfb) {
    reader.step = Step::kUntilOkOrErr;  // LOCAL INFILE: the client uploads, then OK or ERR
    return Progress::kMore;
  }
  ByteReader r(p.payload);
  std::uint64_t columns = 0;
  if (!r.lenenc(columns) || columns == 0) return Progress::kDone;
  reader.remaining = columns;
  reader.step = Step::kColumnDefs;
  return Progress::kMore;
}

Progress rows(ResponseReader& reader, const Packet& p, StitchState& state, Exchange& e,
              const Limits& limits) {
  if (is_err(p)) {
    record_err(p, e);
    return Progress::kDone;
  }
  if (is_terminator(p)) return end_of_rows(reader, p);
  state.rows++;
  std::string row = reader.command == kComStmtExecute ? binary_row(p, reader.column_types, limits)
                                                      : text_row(p, limits);
  e.response_body.append(row + "\n", limits.max_body);
  return Progress::kMore;
}

// The end of a definition block: an EOF follows unless the server deprecated it.
Progress after_definitions(ResponseReader& reader, const StitchState& state) {
  if (reader.step == Step::kPrepParams && reader.prep_columns > 0) {
    reader.step = Step::kPrepEof;  // then the columns
    return Progress::kMore;
  }
  reader.step = Step::kPrepEof;
  reader.prep_columns = 0;
  return ends_without_eof(reader, state) ? Progress::kDone : Progress::kMore;
}

Progress definitions(ResponseReader& reader, const Packet& p, StitchState& state, Exchange& e,
                     const Limits& limits) {
  if (reader.step == Step::kPrepEof) {
    bool had_eof = is_eof(p);
    if (reader.prep_columns > 0) {  // the parameter block ended; columns come next
      reader.step = Step::kPrepColumns;
      reader.remaining = reader.prep_columns;
      reader.prep_columns = 0;
      if (had_eof) return Progress::kMore;
    } else {
      return had_eof ? Progress::kDone : Progress::kEndedBefore;
    }
  }
  if (is_err(p)) {
    record_err(p, e);
    return Progress::kDone;
  }
  record_column(reader, p, state, e, limits, reader.step == Step::kPrepColumns);
  if (--reader.remaining > 0) return Progress::kMore;
  return after_definitions(reader, state);
}

}  // namespace

void learn_greeting(const Greeting& g, StitchState& state) {
  state.server_caps = g.capabilities;
  state.server_mariadb_caps = g.mariadb_capabilities;
}

void learn_handshake_response(const HandshakeResponse& h, StitchState& state) {
  state.client_caps = h.capabilities;
  state.client_mariadb_caps = h.mariadb_capabilities;
  state.caps_known = true;
}

void start_response(ResponseReader& reader, std::uint8_t command) {
  reader = ResponseReader{};
  reader.command = command;
}

bool ends_without_eof(const ResponseReader& reader, const StitchState& state) {
  bool deprecated =
      state.caps_known && (state.client_caps & state.server_caps & kClientDeprecateEof);
  return reader.step == Step::kPrepEof && reader.prep_columns == 0 && deprecated;
}

Progress feed_response(ResponseReader& reader, const Packet& p, StitchState& state, Exchange& e,
                       const Limits& limits) {
  // Sequence ids run on within a response; a 1 out of turn starts the next one. (While the
  // client uploads or re-authenticates, its own packets take ids in between.)
  auto expected = static_cast<std::uint8_t>(reader.last_seq + 1);
  bool interleaved = reader.step == Step::kUntilOkOrErr;
  if (reader.started && p.seq != expected && p.seq == 1) return Progress::kEndedBefore;
  if (reader.started && p.seq != expected && !interleaved) e.gap = true;
  reader.started = true;
  reader.last_seq = p.seq;
  switch (reader.step) {
    case Step::kFirst:
      return first_packet(reader, p, state, e, limits);
    case Step::kColumnDefs:
      record_column(reader, p, state, e, limits, true);
      if (--reader.remaining == 0) reader.step = Step::kAfterColumns;
      return Progress::kMore;
    case Step::kAfterColumns:
      reader.step = Step::kRows;
      if (is_eof(p)) return Progress::kMore;
      return rows(reader, p, state, e, limits);
    case Step::kRows:
      return rows(reader, p, state, e, limits);
    case Step::kFieldList:
      if (is_eof(p) || is_err(p)) return Progress::kDone;
      record_column(reader, p, state, e, limits, true);
      return Progress::kMore;
    case Step::kUntilOkOrErr:
      if (is_err(p)) record_err(p, e);
      if (is_ok(p)) record_ok(p, e);
      return (is_ok(p) || is_err(p)) ? Progress::kDone : Progress::kMore;
    case Step::kPrepParams:
    case Step::kPrepColumns:
    case Step::kPrepEof:
      return definitions(reader, p, state, e, limits);
  }
  return Progress::kDone;
}

}  // namespace reel::protocols::mysql
