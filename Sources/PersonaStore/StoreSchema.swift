/// The store's tables, as forward-only migrations under the namespace "store".
/// Times are integer milliseconds since 1970 UTC; kinds are `MessageKind` raw values.
/// (conversation_id, dedup_hash, occurrence) identifies a message; the import writer
/// enforces it in memory inside its write transaction, because a unique index on a hash
/// is updated in random order and cost about a third of an import's time.
enum StoreSchema {
    static let namespace = "store"

    static let migrations: [String] = [
        """
        CREATE TABLE people(
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            is_me INTEGER NOT NULL DEFAULT 0,
            in_contacts INTEGER NOT NULL DEFAULT 0
        );
        CREATE TABLE handles(
            id INTEGER PRIMARY KEY,
            person_id INTEGER NOT NULL REFERENCES people(id),
            kind TEXT NOT NULL,
            value TEXT NOT NULL,
            UNIQUE(kind, value)
        );
        CREATE INDEX handles_by_person ON handles(person_id);
        CREATE TABLE conversations(
            id INTEGER PRIMARY KEY,
            source TEXT NOT NULL,
            source_key TEXT NOT NULL,
            title TEXT NOT NULL,
            is_group INTEGER NOT NULL DEFAULT 0,
            UNIQUE(source, source_key)
        );
        CREATE TABLE participants(
            conversation_id INTEGER NOT NULL REFERENCES conversations(id),
            person_id INTEGER NOT NULL REFERENCES people(id),
            PRIMARY KEY(conversation_id, person_id)
        ) WITHOUT ROWID;
        CREATE INDEX participants_by_person ON participants(person_id);
        CREATE TABLE imports(
            id INTEGER PRIMARY KEY,
            file_name TEXT NOT NULL,
            sha256 TEXT NOT NULL,
            format TEXT NOT NULL,
            conversations INTEGER NOT NULL DEFAULT 0,
            messages_new INTEGER NOT NULL DEFAULT 0,
            messages_duplicate INTEGER NOT NULL DEFAULT 0,
            messages_skipped INTEGER NOT NULL DEFAULT 0,
            imported_at TEXT NOT NULL
        );
        CREATE TABLE messages(
            id INTEGER PRIMARY KEY,
            conversation_id INTEGER NOT NULL REFERENCES conversations(id),
            sender_id INTEGER REFERENCES people(id),
            sent_at INTEGER NOT NULL,
            text TEXT NOT NULL,
            kind TEXT NOT NULL,
            reply_to INTEGER REFERENCES messages(id),
            edited INTEGER NOT NULL DEFAULT 0,
            deleted INTEGER NOT NULL DEFAULT 0,
            source TEXT NOT NULL,
            source_id TEXT,
            dedup_hash INTEGER NOT NULL,
            occurrence INTEGER NOT NULL,
            import_id INTEGER NOT NULL REFERENCES imports(id)
        );
        CREATE INDEX messages_by_time ON messages(conversation_id, sent_at);
        CREATE INDEX messages_by_sender ON messages(sender_id);
        CREATE TABLE attachments(
            id INTEGER PRIMARY KEY,
            message_id INTEGER NOT NULL REFERENCES messages(id),
            file_name TEXT,
            mime_type TEXT,
            info TEXT
        );
        CREATE INDEX attachments_by_message ON attachments(message_id);
        """,
    ]
}
