import { AppError } from '../platform/errors/app-error.js';

export type BotErrorCode =
  | 'bot_inbox_not_found'
  | 'bot_config_invalid'
  | 'bot_flow_invalid'
  | 'bot_flow_not_found'
  | 'bot_turn_not_found'
  | 'bot_session_not_found'
  | 'bot_training_invalid';

const STATUS: Record<BotErrorCode, number> = {
  bot_inbox_not_found: 404,
  bot_config_invalid: 400,
  bot_flow_invalid: 400,
  bot_flow_not_found: 404,
  bot_turn_not_found: 404,
  bot_session_not_found: 404,
  bot_training_invalid: 400,
};

export class BotError extends AppError {
  constructor(code: BotErrorCode, message: string, details?: unknown) {
    super(code, message, STATUS[code], details);
  }
}
