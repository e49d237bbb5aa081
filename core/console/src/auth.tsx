import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { api, ApiError, onUnauthorized, setCsrfToken } from './api';
import { RealtimeClient } from './realtime';
import type { Actor, Role } from './types';

interface AuthValue {
  actor: Actor | null;
  loading: boolean;
  refresh(): Promise<void>;
  logout(): Promise<void>;
  realtime: RealtimeClient | null;
  hasRole(...roles: Role[]): boolean;
}

const AuthContext = createContext<AuthValue | null>(null);

export function AuthProvider({ children }: { children: ReactNode }) {
  const [actor, setActor] = useState<Actor | null>(null);
  const [loading, setLoading] = useState(true);
  const [realtime, setRealtime] = useState<RealtimeClient | null>(null);

  const refresh = useCallback(async () => {
    try {
      const me = await api.get<{ actor: Actor; csrfToken: string | null }>('/api/v1/auth/me');
      setCsrfToken(me.csrfToken);
      setActor(me.actor);
    } catch (error) {
      if (!(error instanceof ApiError) || error.status !== 401) console.warn('auth/me failed', error);
      setActor(null);
    } finally {
      setLoading(false);
    }
  }, []);

  useEffect(() => {
    void refresh();
    return onUnauthorized(() => setActor(null));
  }, [refresh]);

  useEffect(() => {
    if (!actor) return;
    const client = new RealtimeClient();
    client.start();
    setRealtime(client);
    return () => {
      client.stop();
      setRealtime(null);
    };
  }, [actor?.id]);

  const logout = useCallback(async () => {
    const result = await api.post<{ redirectTo: string }>('/api/v1/auth/logout').catch(() => ({ redirectTo: '/' }));
    setCsrfToken(null);
    setActor(null);
    window.location.assign(result.redirectTo || '/');
  }, []);

  const value = useMemo<AuthValue>(
    () => ({ actor, loading, refresh, logout, realtime, hasRole: (...roles: Role[]) => Boolean(actor && actor.roles.some((role) => roles.includes(role))) }),
    [actor, loading, refresh, logout, realtime],
  );
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): AuthValue {
  const value = useContext(AuthContext);
  if (!value) throw new Error('useAuth outside AuthProvider');
  return value;
}
