-- Migrations 0012 and 0013 added tables and columns that ingest fills as
-- events arrive (minute rollups, releases, error groups' hours, releases and
-- environments), but left them empty for the events already stored. A
-- database upgraded from before 0013 therefore showed its past errors
-- without sparklines or releases. This fills in, from the stored events,
-- exactly what ingest would have written, and only what is missing: on a
-- database that ingest filled after 0013 every statement finds nothing to do.
--
-- Reads `events` once per statement and takes no lock beyond row locks on
-- the rows it writes (measured in docs/upgrading.md).

-- Error events per group and hour.
insert into error_group_hourly (group_id, bucket, events)
select g.id, date_trunc('hour', e.occurred_at), count(*)
from events e
join error_groups g on g.service_id = e.service_id and g.fingerprint = e.fingerprint
where e.level >= 3
  and e.fingerprint is not null
  and not exists (select 1 from error_group_hourly h
                  where h.group_id = g.id and h.bucket = date_trunc('hour', e.occurred_at))
group by 1, 2
on conflict (group_id, bucket) do nothing;

-- Releases as events name them.
insert into releases (service_id, version, first_seen, last_seen, events, errors)
select service_id, release, min(occurred_at), max(occurred_at), count(*),
       count(*) filter (where level >= 3)
from events
where release is not null
group by service_id, release
on conflict (service_id, version) do nothing;

-- Groups that ingest has not touched since 0013: their releases,
-- environments and culprit from their error events.
with touched as (
    select g.id,
           (array_agg(e.release order by e.occurred_at, e.id))[1] as first_release,
           (array_agg(e.release order by e.occurred_at desc, e.id desc))[1] as last_release,
           coalesce((array_agg(e.attributes->>'culprit' order by e.occurred_at desc, e.id desc)
                     filter (where e.attributes ? 'culprit'))[1], '') as culprit,
           coalesce(array_agg(distinct e.environment order by e.environment)
                    filter (where e.environment is not null), '{}') as environments
    from error_groups g
    join events e on e.service_id = g.service_id and e.fingerprint = g.fingerprint
    where e.level >= 3
      and g.first_release is null and g.last_release is null
      and g.environments = '{}' and g.culprit = ''
    group by g.id
)
update error_groups g set
    first_release = t.first_release,
    last_release = t.last_release,
    culprit = t.culprit,
    environments = t.environments[1:50]
from touched t
where g.id = t.id
  and (t.first_release is not null or t.last_release is not null
       or t.culprit <> '' or t.environments <> '{}');

-- Minute rollups feed error-rate alert rules, which look back an hour at
-- most: the last day is enough.
insert into event_rollups_minute (bucket, service_id, events, errors)
select date_trunc('minute', occurred_at), service_id, count(*), count(*) filter (where level >= 3)
from events
where occurred_at >= now() - interval '1 day'
group by 1, 2
on conflict (bucket, service_id) do nothing;
