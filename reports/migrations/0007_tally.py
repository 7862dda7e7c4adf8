from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('reports', '0006_backfill_case_durations_and_failed_rules'),
    ]

    operations = [
        migrations.CreateModel(
            name='Tally',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('grain', models.CharField(max_length=1)),
                ('day', models.DateField()),
                ('level', models.PositiveSmallIntegerField()),
                ('office', models.CharField(default='', max_length=120)),
                ('region', models.CharField(default='', max_length=120)),
                ('cycle', models.PositiveIntegerField(default=0)),
                ('contract_type', models.CharField(default='', max_length=20)),
                ('measure', models.CharField(max_length=12)),
                ('key', models.CharField(default='', max_length=100)),
                ('days', models.IntegerField(default=0)),
                ('within', models.CharField(default='', max_length=1)),
                ('n', models.BigIntegerField(default=0)),
            ],
            options={
                'indexes': [models.Index(fields=['measure', 'level', 'grain', 'day', 'office', 'region', 'cycle', 'contract_type', 'key', 'days', 'within'], name='tally_fact')],
            },
        ),
    ]
