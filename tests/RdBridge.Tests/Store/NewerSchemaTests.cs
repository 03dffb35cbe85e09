using RdBridge.Store;

namespace RdBridge.Tests.Store;

/// <summary>
/// A database a newer RdBridge migrated (a version this build does not know) is refused by name and left exactly as
/// it is: version 9 made catalog columns computed on SQLite, and an older import writing them failed with SQLite's
/// own "cannot INSERT into generated column" halfway through a run.
/// </summary>
public class NewerSchemaTests
{
    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    public void A_database_of_a_newer_schema_version_is_refused_and_left_unchanged(string kind)
    {
        using var dir = new TempDir();
        using var db = TestStore.Create(kind, dir);
        using (var store = db.Open()) store.Migrate();
        var newer = StoreSchema.Latest + 1;
        db.Rows($"INSERT INTO schema_migrations (version, applied_at) VALUES ({newer}, '2027-01-01T00:00:00Z') "
            + "RETURNING version");
        var before = db.Rows("SELECT version, applied_at FROM schema_migrations ORDER BY version")
            .Select(r => $"{r[0]}|{r[1]}").ToList();

        using var again = db.Open();
        var e = Assert.Throws<StoreException>(() => again.Migrate());
        Assert.Equal($"the AIstock database ({again.Describe}) is at schema version {newer}, written by a newer "
            + $"RdBridge; this one knows versions up to {StoreSchema.Latest} and changed nothing: upgrade RdBridge on "
            + "this machine", e.Message);
        Assert.Equal(before, db.Rows("SELECT version, applied_at FROM schema_migrations ORDER BY version")
            .Select(r => $"{r[0]}|{r[1]}").ToList());
    }
}
