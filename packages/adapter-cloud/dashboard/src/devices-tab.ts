import { errorText } from './api.js';
import type { DeviceInfo, DeviceRevoked } from './api-types.js';
import { confirmDialog } from './confirm-dialog.js';
import { h } from './dom.js';
import { formatAgo, formatBytes, formatCount, formatTime } from './format.js';
import { fill, type View } from './view.js';

/** How often the devices list refreshes itself. */
export const DEVICES_REFRESH_MS = 3000;

/**
 * The devices (client replicas, by site id) that have synced with a database, grouped by user:
 * whether connected now, when last seen and synced, changes still to push, traffic, and a
 * Revoke button (after a confirmation: the device's sessions close and its later hellos are
 * refused). Refreshes itself.
 *
 * @example
 * ```ts
 * panel.append(devicesTab(view, 'app'));
 * ```
 */
export function devicesTab(view: View, database: string): HTMLElement {
  const body = h('div');
  const updated = h('p', { class: 'muted', testid: 'devices-updated', 'aria-live': 'off' });
  // The outcome of a revoke, kept across refreshes until the next one.
  const notice = h('p', { testid: 'devices-notice', 'aria-live': 'polite' });
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
        const users = new Map<string, DeviceInfo[]>();
        for (const device of devices) {
          const list = users.get(device.user);
          if (list) list.push(device);
          else users.set(device.user, [device]);
        }
        return [
          h(
            'p',
            { testid: 'devices-count' },
            `${connected} connected · ${devices.length} known · ${users.size} ${users.size === 1 ? 'user' : 'users'}`,
          ),
          ...[...users.entries()]
            .sort(([a], [b]) => a.localeCompare(b))
            .map(([user, list]) => group(user, list, now)),
        ];
      },
      { refresh },
    );

  const revoke = async (device: DeviceInfo, button: HTMLButtonElement): Promise<void> => {
    const go = await confirmDialog({
      title: `Revoke device ${device.site.slice(0, 8)}…?`,
      message: `${device.user}'s device ${device.site} is disconnected now and refused from then on. Its changes not yet pushed stay on the device. The user's other devices keep syncing.`,
      confirm: 'Revoke device',
      testid: 'revoke',
    });
    if (!go || view.signal.aborted) return;
    button.disabled = true;
    try {
      const result = await view.api.delete<DeviceRevoked>([
        'databases',
        database,
        'devices',
        device.site,
      ]);
      notice.className = 'ok';
      notice.setAttribute('role', 'status');
      notice.textContent = `Revoked ${result.revoked}: ${result.closedSessions} ${result.closedSessions === 1 ? 'session' : 'sessions'} closed.`;
    } catch (error) {
      if (view.signal.aborted) return;
      notice.className = 'error';
      notice.setAttribute('role', 'alert');
      notice.textContent = `Could not revoke ${device.site}: ${errorText(error)}`;
    }
    await load(true);
  };

  const group = (user: string, devices: readonly DeviceInfo[], now: number): HTMLElement => {
    const online = devices.filter((device) => device.connected).length;
    return h(
      'section',
      { class: 'device-group', testid: `device-group-${user}`, 'aria-label': `Devices of ${user}` },
      h(
        'h2',
        {},
        h('span', { testid: 'device-group-user' }, user),
        h(
          'span',
          { class: 'muted' },
          ` · ${devices.length} ${devices.length === 1 ? 'device' : 'devices'}, ${online} connected`,
        ),
      ),
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
            h('th', { scope: 'col' }, 'Connected'),
            h('th', { scope: 'col' }, 'Last seen'),
            h('th', { scope: 'col' }, 'Last sync'),
            h('th', { scope: 'col', class: 'num' }, 'Pending changes'),
            h('th', { scope: 'col', class: 'num' }, 'Rows refused'),
            h('th', { scope: 'col', class: 'num' }, 'Bytes up'),
            h('th', { scope: 'col', class: 'num' }, 'Bytes down'),
            h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Actions')),
          ),
        ),
        h('tbody', {}, ...devices.map((device) => row(device, now))),
      ),
    );
  };

  const row = (device: DeviceInfo, now: number): HTMLElement => {
    const button = h(
      'button',
      {
        type: 'button',
        class: 'danger small',
        testid: `device-revoke-${device.site}`,
        'aria-label': `Revoke device ${device.site}`,
      },
      'Revoke',
    );
    button.addEventListener('click', () => void revoke(device, button));
    return h(
      'tr',
      { testid: `device-row-${device.site}` },
      h('th', { scope: 'row' }, h('code', { class: 'site' }, device.site)),
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
      h(
        'td',
        { testid: 'device-actions' },
        device.revokedAt === undefined
          ? button
          : h(
              'span',
              { class: 'tag warn', testid: 'device-revoked', title: formatTime(device.revokedAt) },
              'revoked',
            ),
      ),
    );
  };

  void load(false);
  view.every(DEVICES_REFRESH_MS, () => load(true));
  return h('div', { testid: 'devices-tab' }, updated, notice, body);
}
