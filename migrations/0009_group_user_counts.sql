-- `error_groups.users_affected` counts the group's rows in
-- `error_group_users`. The database keeps it, once per statement, so that
-- ingest can store a batch (ids, rollups, groups, users, events) in a single
-- statement: one statement cannot insert a user pair and then update the
-- group row it has already upserted.
--
-- A restore copies both tables as they were and must not count again: it
-- disables these triggers for its transaction.

create function leitstand_group_users_added() returns trigger
language plpgsql as $$
begin
    update error_groups g set users_affected = g.users_affected + a.n
    from (select group_id, count(*) as n from added group by group_id) a
    where g.id = a.group_id;
    return null;
end $$;

create function leitstand_group_users_removed() returns trigger
language plpgsql as $$
begin
    update error_groups g set users_affected = greatest(g.users_affected - r.n, 0)
    from (select group_id, count(*) as n from removed group by group_id) r
    where g.id = r.group_id;
    return null;
end $$;

create trigger error_group_users_added
    after insert on error_group_users
    referencing new table as added
    for each statement execute function leitstand_group_users_added();

create trigger error_group_users_removed
    after delete on error_group_users
    referencing old table as removed
    for each statement execute function leitstand_group_users_removed();
