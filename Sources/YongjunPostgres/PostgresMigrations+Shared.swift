extension PostgresMigrations {
    /// State the instances sharing one database keep together (appended by the PostgreSQL store's work); applied
    /// after `schema`. Shipped migrations are never edited: add a new one at the end.
    public static let shared: [PostgresMigration] = []
}
