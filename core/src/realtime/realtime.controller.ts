import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsInt, IsOptional, IsString, Matches, Max, Min } from 'class-validator';
import { Roles } from '../identity/decorators/roles.decorator.js';
import { RequireScopes } from '../identity/decorators/require-scopes.decorator.js';
import { VisitorTokenService } from './visitor-token.service.js';

const ID = /^[A-Za-z0-9_.:-]{1,128}$/;

export class IssueVisitorTokenDto {
  @ApiProperty({ description: "The widget's stable visitor id" })
  @IsString()
  @Matches(ID)
  visitorId: string;

  @ApiProperty({ description: 'The web-chat inbox' })
  @IsString()
  @Matches(ID)
  inboxId: string;

  @ApiPropertyOptional({ description: 'The contact, when already resolved' })
  @IsOptional()
  @IsString()
  @Matches(ID)
  contactId?: string;

  @ApiPropertyOptional({ minimum: 60, maximum: 604800, default: 86400 })
  @IsOptional()
  @IsInt()
  @Min(60)
  @Max(604_800)
  ttlSeconds?: number;
}

@ApiTags('realtime')
@ApiBearerAuth()
@Controller('api/v1/realtime')
export class RealtimeController {
  constructor(private readonly tokens: VisitorTokenService) {}

  @Post('visitor-tokens')
  @HttpCode(201)
  @Roles('admin', 'integrator')
  @RequireScopes('realtime:visitor_tokens')
  @ApiOperation({ summary: 'Issue a web-chat visitor token for the WebSocket gateway (used by the web-chat channel)' })
  issue(@Body() body: IssueVisitorTokenDto): Promise<{ token: string; expiresAt: string }> {
    return this.tokens.issue(body);
  }
}
