import type { DeviceInfo } from './api-types.js';
import { h } from './dom.js';
import { formatAgo, formatBytes, formatCount, formatTime } from './format.js';
import { fill, type View } from './view.js';

/** How often the devices list refreshes itself. */
export const DEVICES_REFRESH_MS = 3000;

/**
 * The devices (client replicas, by site id) that have synced with a database: who, whether
 * connected now, when last seen and synced, changes still to push, and traffic. Refreshes itself.
 *
 * @example
 * ```ts
 * panel.append(devicesTab(view, 'app'));
 * ```
 */
export function devicesTab(view: View, database: string): HTMLElement {
  const body = h('div');
  const updated = h('p', { class: 'muted', testid: 'devices-updated', 'aria-live': 'off' });
  const load = (refresh: boolean): Promise<void> =>
    fill(
      view,
      body,
      async () => {
        const devices = await view.api.get<DeviceInfo[]>(['databases', database, 'devices']);
        const now = view.now();
        updated.textContent = `Updated ${formatTime(now).slice(11)} · refreshes every ${DEVICES_REFRESH_MS / 1000} s`;
        if (devices.length === 0)
          return [
            h(
              'p',
              { class: 'empty', testid: 'devices-empty' },
              'No device has synced with this database yet. A device appears here after its first request.',
            ),
          ];
        const connected = devices.filter((device) => device.connected).length;
        return [
          h('p', { testid: 'devices-count' }, `${connected} connected · ${devices.length} known`),
          h(
            'table',
            { class: 'grid', testid: 'devices-table' },
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                h('th', { scope: 'col' }, 'Site id'),
                h('th', { scope: 'col' }, 'User'),
                h('th', { scope: 'col' }, 'Connected'),
                h('th', { scope: 'col' }, 'Last seen'),
                h('th', { scope: 'col' }, 'Last sync'),
                h('th', { scope: 'col', class: 'num' }, 'Pending changes'),
                h('th', { scope: 'col', class: 'num' }, 'Rows refused'),
                h('th', { scope: 'col', class: 'num' }, 'Bytes up'),
                h('th', { scope: 'col', class: 'num' }, 'Bytes down'),
              ),
            ),
            h('tbody', {}, ...devices.map((device) => row(device, now))),
          ),
        ];
      },
      { refresh },
    );
  void load(false);
  view.every(DEVICES_REFRESH_MS, () => load(true));
  return h('div', { testid: 'devices-tab' }, updated, body);
}

function row(device: DeviceInfo, now: number): HTMLElement {
  return h(
    'tr',
    { testid: `device-row-${device.site}` },
    h('th', { scope: 'row' }, h('code', { class: 'site' }, device.site)),
    h('td', { testid: 'device-user' }, device.user),
    h(
      'td',
      { testid: 'device-connected' },
      h('span', { class: `dot ${device.connected ? 'on' : 'off'}`, 'aria-hidden': 'true' }),
      device.connected ? 'yes' : 'no',
    ),
    h('td', { title: formatTime(device.lastSeen) }, formatAgo(device.lastSeen, now)),
    h(
      'td',
      {
        testid: 'device-last-sync',
        title: device.lastSync === undefined ? undefined : formatTime(device.lastSync),
      },
      device.lastSync === undefined ? 'never' : formatAgo(device.lastSync, now),
    ),
    h('td', { class: 'num', testid: 'device-pending' }, formatCount(device.pending)),
    h('td', { class: 'num', testid: 'device-refusals' }, formatCount(device.refusals)),
    h('td', { class: 'num', testid: 'device-bytes-up' }, formatBytes(device.bytesUp)),
    h('td', { class: 'num', testid: 'device-bytes-down' }, formatBytes(device.bytesDown)),
  );
}
